#include "operator/base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "operator/base/thread_annotations.h"

namespace portico::log {
namespace {

std::atomic<Level> g_level{Level::Info};
Mutex g_write_mutex;
std::atomic<Sink> g_sink{nullptr};
thread_local std::vector<std::pair<std::string, std::string>> t_context;

const char* levelName(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

void appendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  out += buf;
}

}  // namespace

void setLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parseLevel(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::Debug;
  else if (text == "info")
    out = Level::Info;
  else if (text == "warn")
    out = Level::Warn;
  else if (text == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

void appendJsonEscaped(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  line += "{\"ts\":\"";
  appendTimestamp(line);
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"msg\":\"";
  appendJsonEscaped(line, msg);
  line += '"';
  auto append = [&line](std::string_view key, std::string_view value) {
    line += ",\"";
    appendJsonEscaped(line, key);
    line += "\":\"";
    appendJsonEscaped(line, value);
    line += '"';
  };
  for (const auto& [key, value] : t_context) {
    bool overridden = false;
    for (const auto& field : fields) overridden = overridden || field.first == key;
    if (!overridden) append(key, value);
  }
  for (const auto& [key, value] : fields) append(key, value);
  line += "}\n";
  if (Sink sink = g_sink.load()) {
    sink(line);
    return;
  }
  MutexLock lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

ScopedContext::ScopedContext(std::initializer_list<std::pair<std::string_view, std::string>> fields)
    : restore_size_(t_context.size()) {
  for (const auto& [key, value] : fields) t_context.emplace_back(std::string(key), value);
}

ScopedContext::~ScopedContext() {
  t_context.resize(restore_size_);
}

void setSinkForTesting(Sink sink) {
  g_sink.store(sink);
}

}  // namespace portico::log
