// Structured logging: one JSON object per line on stderr, e.g.
// {"ts":"2026-11-26T13:00:00.123Z","level":"info","msg":"watch started","resource":"ingresses"}
// Never log private keys or tokens: callers pass only what is safe to show.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

using Field = std::pair<std::string_view, std::string>;

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level& out);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields);

inline void debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (level() <= Level::Debug) write(Level::Debug, msg, fields);
}
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (level() <= Level::Info) write(Level::Info, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (level() <= Level::Warn) write(Level::Warn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::Error, msg, fields);
}

// Fields added to every line this thread writes while the context lives (e.g. the controller,
// the object and the reconcile id, set by the runtime around each reconcile). Nested contexts
// add to the outer ones; a field the line passes itself wins over the context's.
class ScopedContext {
public:
  explicit ScopedContext(std::initializer_list<std::pair<std::string_view, std::string>> fields);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

private:
  size_t restore_size_;
};

// Tests capture lines here instead of stderr (nullptr restores stderr).
using Sink = void (*)(std::string_view line);
void setSinkForTesting(Sink sink);

// JSON string escaping (RFC 8259 §7), shared with anything that hand-writes JSON.
void appendJsonEscaped(std::string& out, std::string_view text);

}  // namespace portico::log
