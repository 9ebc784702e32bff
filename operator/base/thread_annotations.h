// Thread contracts the compiler checks: clang's -Wthread-safety capability attributes and the
// annotated Mutex, SharedMutex and scoped locks every class uses instead of std::mutex.
//
// A field says which mutex guards it (GUARDED_BY), a private helper says which mutex its caller
// holds (REQUIRES). The clang builds (TSan, fuzz) compile with -Wthread-safety -Werror; under
// GCC the attributes expand to nothing. Only the attributes the code uses are defined here. See
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define PORTICO_THREAD_ATTRIBUTE(x) __attribute__((x))
#else
#define PORTICO_THREAD_ATTRIBUTE(x)
#endif

#define CAPABILITY(x) PORTICO_THREAD_ATTRIBUTE(capability(x))
#define SCOPED_CAPABILITY PORTICO_THREAD_ATTRIBUTE(scoped_lockable)
#define GUARDED_BY(x) PORTICO_THREAD_ATTRIBUTE(guarded_by(x))
#define REQUIRES(...) PORTICO_THREAD_ATTRIBUTE(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) PORTICO_THREAD_ATTRIBUTE(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PORTICO_THREAD_ATTRIBUTE(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PORTICO_THREAD_ATTRIBUTE(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PORTICO_THREAD_ATTRIBUTE(release_shared_capability(__VA_ARGS__))

namespace portico {

class CAPABILITY("mutex") Mutex {
public:
  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  // For MutexLock's condition waits only.
  std::mutex& native() { return mutex_; }

private:
  std::mutex mutex_;
};

// Holds a Mutex for its scope. The condition waits release the mutex while they block and hold
// it again when they return, so the analysis may treat it as held throughout; callers re-check
// their condition in a loop (`while (!ready_) lock.wait(cv_);`), which the analysis can follow
// where a predicate lambda would be a separate, unannotated function.
class SCOPED_CAPABILITY MutexLock {
public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : lock_(mutex.native()) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Drops the mutex early (or for a section that must not hold it) and takes it again.
  void unlock() RELEASE() { lock_.unlock(); }
  void lock() ACQUIRE() { lock_.lock(); }

  void wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <typename Rep, typename Period>
  std::cv_status waitFor(std::condition_variable& cv,
                         const std::chrono::duration<Rep, Period>& timeout) {
    return cv.wait_for(lock_, timeout);
  }
  template <typename Clock, typename Duration>
  std::cv_status waitUntil(std::condition_variable& cv,
                           const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline);
  }

private:
  std::unique_lock<std::mutex> lock_;
};

// Many readers or one writer (std::shared_mutex).
class CAPABILITY("shared mutex") SharedMutex {
public:
  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { mutex_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { mutex_.unlock_shared(); }

private:
  std::shared_mutex mutex_;
};

class SCOPED_CAPABILITY WriterLock {
public:
  explicit WriterLock(SharedMutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~WriterLock() RELEASE() { mutex_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

private:
  SharedMutex& mutex_;
};

class SCOPED_CAPABILITY ReaderLock {
public:
  explicit ReaderLock(SharedMutex& mutex) ACQUIRE_SHARED(mutex) : mutex_(mutex) {
    mutex_.lock_shared();
  }
  ~ReaderLock() RELEASE() { mutex_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

private:
  SharedMutex& mutex_;
};

}  // namespace portico
