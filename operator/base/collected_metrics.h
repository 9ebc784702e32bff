// Samples for prometheus::Collectable implementations (families built at scrape time, see
// metrics.h). Labels are sorted by name, as the registry writes its own.
#pragma once

#include <prometheus/client_metric.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace portico::metrics {

using Labels = std::vector<prometheus::ClientMetric::Label>;

inline prometheus::ClientMetric gaugeSample(Labels labels, double value) {
  prometheus::ClientMetric sample;
  std::sort(labels.begin(), labels.end());
  sample.label = std::move(labels);
  sample.gauge.value = value;
  return sample;
}

inline prometheus::ClientMetric counterSample(Labels labels, double value) {
  prometheus::ClientMetric sample;
  std::sort(labels.begin(), labels.end());
  sample.label = std::move(labels);
  sample.counter.value = value;
  return sample;
}

}  // namespace portico::metrics
