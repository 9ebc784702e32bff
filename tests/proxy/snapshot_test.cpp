#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "operator/proxy/snapshot_codec.h"
#include "operator/proxy/snapshot_format.h"
#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/snapshot_writer.h"

using namespace portico;
using namespace portico::proxy;

namespace {

RouteTable sampleTable(const std::string& marker, size_t routes = 2) {
  std::vector<Backend> backends = {{"web/site:80", {{"10.0.0.1", 8080}, {"::1", 8081}}, ""},
                                   {"web/none:80", {}, "Service web/none not found"}};
  std::vector<Route> rs;
  for (size_t i = 0; i < routes; ++i)
    rs.push_back({"host" + std::to_string(i) + ".example",
                  "/" + marker,
                  PathMatch::Prefix,
                  static_cast<uint32_t>(i % 2),
                  {i % 2 == 0},
                  "web/ing rule 0 path " + std::to_string(i)});
  std::vector<TlsCertificate> certs = {
      {{"host0.example", "*.wild.example"}, "CERT", "KEY", "web/tls"}};
  // The class's proxy settings round-trip too (values unlike the defaults).
  ClassProxySettings proxy{true, 7, 11, 2, 13, 32768, 1 << 20, true, ""};
  Listeners listeners{"127.0.0.1",   8080,           8443,
                      "TLSv1.3",     "ECDHE+AESGCM", "TLS_AES_128_GCM_SHA256",
                      "max-age=600", /*http2=*/true, proxy};
  return RouteTable(backends, rs, 1, certs, 0, {{"tok-" + marker, "tok." + marker}}, listeners);
}

std::string tempPath() {
  char tmpl[] = "/tmp/portico-snapshot-XXXXXX";
  return std::string(mkdtemp(tmpl)) + "/routes.snap";
}

// Raw read-write access to a snapshot file, as corruption would have it.
struct RawFile {
  char* base = nullptr;
  size_t size = 0;
  explicit RawFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR);
    struct stat st {};
    fstat(fd, &st);
    size = static_cast<size_t>(st.st_size);
    base = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    ::close(fd);
  }
  ~RawFile() { munmap(base, size); }
  snapshot::RegionHeader* header() { return reinterpret_cast<snapshot::RegionHeader*>(base); }
  char* slot(unsigned i) { return base + snapshot::slotOffset(header()->slot_capacity, i); }
};

}  // namespace

TEST_CASE("snapshot codec: a RouteTable round-trips, and lookups work on the decoded copy") {
  RouteTable table = sampleTable("a");
  auto decoded = snapshot::decode(snapshot::encode(table));
  REQUIRE(decoded);
  CHECK(*decoded == table);
  CHECK(decoded->match("host0.example", "/a/x").backend->name == "web/site:80");
  CHECK(decoded->certificateFor("x.wild.example") == 0);
}

TEST_CASE("snapshot codec: every truncation and a flipped version are errors, never crashes") {
  std::string payload = snapshot::encode(sampleTable("a"));
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    CAPTURE(cut);
    CHECK_FALSE(snapshot::decode(std::string_view(payload).substr(0, cut)));
  }
  std::string wrong = payload;
  wrong[0] = 9;
  auto result = snapshot::decode(wrong);
  REQUIRE_FALSE(result);
  CHECK(result.error().message().find("version 9") != std::string::npos);
  CHECK_FALSE(snapshot::decode(payload + "x"));
}

TEST_CASE("snapshot codec: a Server header that could end the line is refused") {
  RouteTable table = sampleTable("a");
  Listeners listeners = table.listeners();
  listeners.proxy.server_header = "portico\r\nSet-Cookie: x=1";
  RouteTable bad(table.backends(), table.routes(), table.defaultBackend(), table.certificates(),
                 table.defaultCertificate(), table.acmeTokens(), listeners);
  auto decoded = snapshot::decode(snapshot::encode(bad));
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error().message().find("Server header") != std::string::npos);
}

TEST_CASE("snapshot file: truncated or overwritten in place, the reader keeps its table") {
  const std::string path = "/tmp/portico-snapshot-truncated-" + std::to_string(::getpid());
  auto writer = SnapshotWriter::create(path);
  REQUIRE(writer);
  REQUIRE((*writer)->publish(sampleTable("a")));
  SnapshotReader reader(path);
  REQUIRE(reader.poll());
  // A second generation, then the file cut short under the reader (a mapped reader got SIGBUS).
  REQUIRE((*writer)->publish(sampleTable("b")));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(::truncate(path.c_str(), st.st_size / 3) == 0);
  CHECK_FALSE(reader.poll());
  CHECK_FALSE(reader.lastError().isOk());
  REQUIRE(reader.current());
  CHECK(reader.current()->match("host0.example", "/a/x").found());
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  CHECK_FALSE(reader.poll());
  { std::ofstream(path, std::ios::trunc) << std::string(5000, 'x'); }
  CHECK_FALSE(reader.poll());
  CHECK(reader.lastError().message().find("snapshot") != std::string::npos);
  CHECK(reader.current());
  ::unlink(path.c_str());
}

TEST_CASE("snapshot file: a link planted at the temporary name is never written through") {
  const std::string path = "/tmp/portico-snapshot-link-" + std::to_string(::getpid());
  const std::string target = path + ".target";
  { std::ofstream(target) << "untouched"; }
  ::unlink((path + ".new").c_str());
  REQUIRE(::symlink(target.c_str(), (path + ".new").c_str()) == 0);
  auto writer = SnapshotWriter::create(path);
  REQUIRE(writer);
  REQUIRE((*writer)->publish(sampleTable("a")));
  std::ifstream in(target);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  CHECK(content == "untouched");
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  ::unlink(path.c_str());
  ::unlink(target.c_str());
}

TEST_CASE("snapshot file: mode 0600, publish and read generations in order") {
  std::string path = tempPath();
  auto writer = SnapshotWriter::create(path, 4096);
  REQUIRE(writer);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SnapshotReader reader(path);
  CHECK(reader.poll() == nullptr);  // nothing published yet
  REQUIRE((*writer)->publish(sampleTable("one")));
  auto first = reader.poll();
  REQUIRE(first);
  CHECK(reader.generation() == 1);
  CHECK(first->match("host0.example", "/one").found());
  CHECK(reader.poll() == nullptr);  // unchanged
  REQUIRE((*writer)->publish(sampleTable("two")));
  REQUIRE((*writer)->publish(sampleTable("three")));
  auto third = reader.poll();
  REQUIRE(third);
  CHECK(reader.generation() == 3);
  CHECK(third->match("host0.example", "/three").found());
}

TEST_CASE("snapshot file: a payload larger than the slots moves to a bigger file; readers follow") {
  std::string path = tempPath();
  auto writer = SnapshotWriter::create(path, 4096);
  REQUIRE(writer);
  SnapshotReader reader(path);
  REQUIRE((*writer)->publish(sampleTable("small")));
  REQUIRE(reader.poll());
  REQUIRE((*writer)->publish(sampleTable("big", 2000)));
  CHECK((*writer)->slotCapacity() > 4096);
  auto big = reader.poll();
  REQUIRE(big);
  CHECK(big->routes().size() == 2000);
}

TEST_CASE(
    "snapshot file: corrupt, torn, garbage and wrong-version snapshots are rejected; the old "
    "stays") {
  std::string path = tempPath();
  auto created = SnapshotWriter::create(path, 1 << 16);
  REQUIRE(created);
  auto& writer = *created;
  SnapshotReader reader(path);
  REQUIRE(writer->publish(sampleTable("good")));
  auto good = reader.poll();
  REQUIRE(good);

  SUBCASE("a flipped payload byte fails the checksum") {
    REQUIRE(writer->publish(sampleTable("next")));
    RawFile raw(path);
    unsigned slot = raw.header()->published.load() & 1;
    raw.slot(slot)[snapshot::kSlotHeaderSize + 10] ^= 0x40;
    CHECK(reader.poll() == nullptr);
    CHECK(reader.lastError().message() == "snapshot checksum mismatch");
    CHECK(reader.current() == good);
  }
  SUBCASE("a slot the writer is still inside (odd sequence) is not read") {
    REQUIRE(writer->publish(sampleTable("next")));
    RawFile raw(path);
    unsigned slot = raw.header()->published.load() & 1;
    auto* slot_header = reinterpret_cast<snapshot::SlotHeader*>(raw.slot(slot));
    slot_header->sequence.fetch_add(1);
    CHECK(reader.poll() == nullptr);
    CHECK(reader.generation() == 1);
    CHECK(reader.current() == good);
    slot_header->sequence.fetch_add(1);  // the writer finishes
    CHECK(reader.poll() != nullptr);
    CHECK(reader.generation() == 2);
  }
  SUBCASE("a payload that checks out but does not decode") {
    REQUIRE(writer->publishPayload("definitely not a route table"));
    CHECK(reader.poll() == nullptr);
    CHECK(reader.lastError().code() == ErrorCode::DecodeError);
    CHECK(reader.current() == good);
  }
  SUBCASE("a file of another layout version") {
    {
      RawFile raw(path);
      raw.header()->layout_version = 99;
      raw.header()->replaced.store(1);  // make the reader reopen and re-validate
    }
    CHECK(reader.poll() == nullptr);
    CHECK(reader.lastError().message().find("layout version 99") != std::string::npos);
    CHECK(reader.current() == good);  // the last good table is still the one served
  }
}

TEST_CASE(
    "snapshot file: a new writer's file renamed over the path is followed, from its generation 1") {
  std::string path = tempPath();
  SnapshotReader reader(path);
  {
    auto first = SnapshotWriter::create(path, 4096);
    REQUIRE(first);
    REQUIRE((*first)->publish(sampleTable("a")));
    REQUIRE((*first)->publish(sampleTable("b")));
    REQUIRE(reader.poll());
    CHECK(reader.generation() == 2);
  }
  auto second = SnapshotWriter::create(path, 4096);  // e.g. a restarted operator
  REQUIRE(second);
  REQUIRE((*second)->publish(sampleTable("c")));
  auto table = reader.poll();
  REQUIRE(table);
  CHECK(reader.generation() == 1);
  CHECK(table->match("host0.example", "/c").found());
}
