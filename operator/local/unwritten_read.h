// Reading a manifest file only when no process is writing it. `cat > file` truncates the file
// before writing it; a sync that read it in between would see no objects and delete them all.
// A read lease (fcntl F_SETLEASE, F_RDLCK) is refused while any process has the file open for
// writing, and while it is held a writer's open waits: so a file read under it is one whole
// version. Where leases are not allowed (the file belongs to another user without CAP_LEASE, or
// the file system has none) the file is read as it is.
#pragma once

#include <string>

namespace portico::local {

struct UnwrittenRead {
  enum class Outcome { Read, BeingWritten, Failed };
  Outcome outcome = Outcome::Failed;
  std::string text;   // Read: the whole file
  std::string error;  // Failed: why
};

// Ignores SIGIO for the process the first time (a writer's open signals the lease holder;
// the lease is given back right after the read instead).
UnwrittenRead readUnlessBeingWritten(const std::string& path);

}  // namespace portico::local
