// Reading one sample out of a Prometheus text exposition, for tests.
#pragma once

#include <optional>
#include <sstream>
#include <string>

namespace portico::testing {

// The value of the sample whose name and labels are exactly `series`, e.g.
// `portico_workqueue_adds_total{name="q"}` (labels in the serializer's order: sorted by name).
inline std::optional<double> sampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace portico::testing
