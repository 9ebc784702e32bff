// Structured logging: one JSON object per line on stderr, e.g.
// {"ts":"2026-11-26T13:00:00.123Z","level":"info","msg":"watch started","resource":"ingresses"}
// Never log private keys or tokens: callers pass only what is safe to show.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

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

// JSON string escaping (RFC 8259 §7), shared with anything that hand-writes JSON.
void appendJsonEscaped(std::string& out, std::string_view text);

}  // namespace portico::log
