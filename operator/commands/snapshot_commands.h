// `portico snapshot compile|dump` and `portico explain`: the route compiler and the snapshot
// format, offline, on manifest files. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace portico::commands {

int runSnapshotCompile(const std::string& manifests_dir, const std::string& out_path,
                       const std::vector<std::string>& acme_tokens = {});
int runSnapshotDump(const std::string& snapshot_path);
// `state_dir` (optional): a `portico local` state directory whose Secrets (issued certificates)
// count as if they were manifests.
int runExplain(const std::string& manifests_dir, const std::string& state_dir,
               const std::string& host, const std::string& path);

}  // namespace portico::commands
