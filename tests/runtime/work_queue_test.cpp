#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "operator/base/metrics.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/work_queue.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/metrics_text.h"

using namespace portico;
using namespace portico::runtime;
using portico::testing::FakeClock;
using portico::testing::sampleValue;
using namespace std::chrono_literals;

TEST_CASE("work queue: a key added many times is processed once") {
  WorkQueue q;
  q.add({"ns", "a"});
  q.add({"ns", "a"});
  q.add({"ns", "b"});
  q.add({"ns", "a"});
  CHECK(q.depth() == 2);
  CHECK(q.get(0ms) == ObjectKey{"ns", "a"});
  CHECK(q.get(0ms) == ObjectKey{"ns", "b"});
  CHECK_FALSE(q.get(0ms));
}

TEST_CASE("work queue: idle only when nothing is queued or processed; delayed keys do not count") {
  FakeClock clock;
  WorkQueue q(clock);
  CHECK(q.idle());
  q.addAfter({"ns", "later"}, 10s);
  CHECK(q.idle());
  q.add({"ns", "a"});
  CHECK_FALSE(q.idle());
  auto key = q.get(0ms);
  REQUIRE(key);
  CHECK_FALSE(q.idle());  // taken, not done
  q.done(*key);
  CHECK(q.idle());
}

TEST_CASE("work queue: a key added while processing waits for done()") {
  WorkQueue q;
  q.add({"", "a"});
  auto key = q.get(0ms);
  REQUIRE(key);
  q.add({"", "a"});         // changed while a worker holds it
  CHECK_FALSE(q.get(0ms));  // a second worker must not get it
  q.done(*key);
  CHECK(q.get(0ms) == ObjectKey{"", "a"});  // processed again, once
}

TEST_CASE("work queue: two workers never hold the same key") {
  WorkQueue q;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> processed{0};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    while (!stop) {
      auto key = q.get(5ms);
      if (!key) continue;
      int now = ++in_flight;
      max_in_flight = std::max(max_in_flight.load(), now);
      std::this_thread::sleep_for(1ms);
      --in_flight;
      ++processed;
      q.done(*key);
    }
  };
  std::thread w1(worker), w2(worker);
  for (int i = 0; i < 200; ++i) q.add({"", "same"});
  for (int i = 0; i < 50 && (q.depth() > 0 || in_flight > 0); ++i) std::this_thread::sleep_for(5ms);
  stop = true;
  w1.join();
  w2.join();
  CHECK(max_in_flight == 1);
  CHECK(processed >= 1);
}

TEST_CASE("work queue: delayed adds become ready when their time comes; the earliest wins") {
  FakeClock clock;
  WorkQueue q(clock);
  q.addAfter({"", "a"}, 1000ms);
  q.addAfter({"", "a"}, 200ms);   // earlier: replaces
  q.addAfter({"", "a"}, 5000ms);  // later: ignored
  CHECK(q.delayedCount() == 1);
  CHECK_FALSE(q.get(0ms));
  clock.advance(199ms);
  CHECK_FALSE(q.get(0ms));
  clock.advance(1ms);
  CHECK(q.get(0ms) == ObjectKey{"", "a"});
  CHECK(q.delayedCount() == 0);
}

TEST_CASE("work queue: failures back off exponentially per key until forgotten") {
  FakeClock clock;
  WorkQueue q(clock, ExponentialBackoff{10ms, 1000ms, 2.0});
  const ObjectKey k{"", "flaky"};
  q.addRateLimited(k);  // 10 ms
  clock.advance(10ms);
  auto key = q.get(0ms);
  REQUIRE(key);
  q.done(*key);
  q.addRateLimited(k);  // 20 ms
  clock.advance(19ms);
  CHECK_FALSE(q.get(0ms));
  clock.advance(1ms);
  REQUIRE(q.get(0ms));
  q.done(k);
  CHECK(q.failures(k) == 2);
  q.forget(k);
  CHECK(q.failures(k) == 0);
  q.addRateLimited(k);  // back to 10 ms
  clock.advance(10ms);
  CHECK(q.get(0ms));
}

TEST_CASE("work queue: shutdown wakes waiting workers") {
  WorkQueue q;
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    q.shutdown();
  });
  CHECK_FALSE(q.get(10s));
  t.join();
  q.add({"", "late"});
  CHECK(q.depth() == 0);
}

namespace {

class ScriptedReconciler : public Reconciler {
public:
  std::vector<Expected<Result>> script;
  std::vector<ObjectKey> seen;
  Expected<Result> reconcile(const Request& request) override {
    seen.push_back(request.key);
    if (script.empty()) return Result{};
    auto next = script.front();
    script.erase(script.begin());
    return next;
  }
};

}  // namespace

TEST_CASE(
    "controller: errors retry with backoff, terminal errors do not, requeue_after schedules") {
  FakeClock clock;
  ScriptedReconciler reconciler;
  Controller controller("test", reconciler, 1, clock);
  const ObjectKey k{"ns", "obj"};

  SUBCASE("a transient error is retried after the backoff") {
    reconciler.script = {Status(ErrorCode::Unavailable, "api down"), Result{}};
    controller.queue().add(k);
    CHECK(controller.processNext(0ms));
    CHECK(controller.queue().failures(k) == 1);
    CHECK_FALSE(controller.processNext(0ms));
    clock.advance(5ms);
    CHECK(controller.processNext(0ms));
    CHECK(controller.queue().failures(k) == 0);  // success forgets
    CHECK(controller.stats().errors == 1);
  }
  SUBCASE("a terminal error is not retried") {
    reconciler.script = {runtime::terminalError(Status(ErrorCode::Invalid, "bad spec"))};
    controller.queue().add(k);
    CHECK(controller.processNext(0ms));
    clock.advance(std::chrono::hours(1));
    CHECK_FALSE(controller.processNext(0ms));
    CHECK(controller.queue().failures(k) == 0);
  }
  SUBCASE("requeue_after brings the key back at that time") {
    reconciler.script = {Result{30000ms}};
    controller.queue().add(k);
    CHECK(controller.processNext(0ms));
    clock.advance(29999ms);
    CHECK_FALSE(controller.processNext(0ms));
    clock.advance(1ms);
    CHECK(controller.processNext(0ms));
    CHECK(reconciler.seen.size() == 2);
  }
}

TEST_CASE("work queue: a named queue reports adds, depth, time waited and retries") {
  FakeClock clock;
  WorkQueue q(clock);
  q.setMetricsName("metrics-test-queue");
  q.add({"ns", "a"});
  q.add({"ns", "a"});  // deduplicated: one add
  q.add({"ns", "b"});
  std::string text = metrics::exposition();
  CHECK(sampleValue(text, R"(portico_workqueue_adds_total{name="metrics-test-queue"})") == 2);
  CHECK(sampleValue(text, R"(portico_workqueue_depth{name="metrics-test-queue"})") == 2);
  clock.advance(40ms);
  auto key = q.get(0ms);
  REQUIRE(key);
  q.addRateLimited(*key);
  q.done(*key);
  text = metrics::exposition();
  CHECK(sampleValue(text, R"(portico_workqueue_depth{name="metrics-test-queue"})") == 1);
  CHECK(sampleValue(
            text, R"(portico_workqueue_queue_duration_seconds_count{name="metrics-test-queue"})") ==
        1);
  CHECK(sampleValue(text,
                    R"(portico_workqueue_queue_duration_seconds_sum{name="metrics-test-queue"})") ==
        doctest::Approx(0.040));
  CHECK(sampleValue(text, R"(portico_workqueue_retries_total{name="metrics-test-queue"})") == 1);
}
