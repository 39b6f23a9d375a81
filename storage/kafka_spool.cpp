#include "storage/kafka_spool.hpp"

#include "protocol/business_time.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace adserver::storage {

namespace {

constexpr char magic[4] = {'A', 'D', 'S', 'P'};
constexpr uint32_t spool_version = 1;
constexpr uint64_t header_size = 8;
constexpr uint64_t record_head = 16;  // three lengths and the CRC

void put_u32(std::string& out, uint32_t x) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

uint32_t get_u32(const unsigned char* b) {
  return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

std::string header_bytes() {
  std::string h(magic, sizeof magic);
  put_u32(h, spool_version);
  return h;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

/// Reads exactly `n` bytes at `at`; false on a short read or an error.
bool pread_all(int fd, void* buf, size_t n, uint64_t at) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    auto r = ::pread(fd, p, n, static_cast<off_t>(at));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<size_t>(r);
    at += static_cast<uint64_t>(r);
  }
  return true;
}

/// Writes all of `bytes` at `at` (or appends, when `at` is negative); errno
/// is kept on failure.
bool write_fully(int fd, const std::string& bytes, int64_t at) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    auto w = at >= 0 ? ::pwrite(fd, p, n, static_cast<off_t>(at)) : ::write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return false;
    if (w == 0) {
      errno = EIO;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    if (at >= 0)
      at += w;
  }
  return true;
}

/// Opens (creating with mode 0600) for writing; -1 and errno on failure.
int open_private(const std::string& path, int flags) {
  return ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC, 0600);
}

bool fsync_directory_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty())
    dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

std::string encode_record(const kafka_event& e) {
  std::string rec;
  rec.reserve(record_head + e.topic.size() + e.key.size() + e.payload.size());
  put_u32(rec, static_cast<uint32_t>(e.topic.size()));
  put_u32(rec, static_cast<uint32_t>(e.key.size()));
  put_u32(rec, static_cast<uint32_t>(e.payload.size()));
  uint32_t crc = crc32(0, rec.data(), 12);
  crc = crc32(crc, e.topic.data(), e.topic.size());
  crc = crc32(crc, e.key.data(), e.key.size());
  crc = crc32(crc, e.payload.data(), e.payload.size());
  put_u32(rec, crc);
  rec += e.topic;
  rec += e.key;
  rec += e.payload;
  return rec;
}

/// One record of the legacy (version 0) format at `at`: three length-prefixed
/// strings, no checksum.
bool read_legacy_record(int fd, uint64_t size, uint64_t at, kafka_event& e, uint64_t& next) {
  for (std::string* s : {&e.topic, &e.key, &e.payload}) {
    unsigned char b[4];
    if (at + 4 > size || !pread_all(fd, b, 4, at))
      return false;
    uint64_t n = get_u32(b);
    at += 4;
    if (at + n > size)
      return false;
    s->resize(n);
    if (n > 0 && !pread_all(fd, s->data(), n, at))
      return false;
    at += n;
  }
  next = at;
  return true;
}

/// Appends [from, to) of `fd` to the file `path` (mode 0600).
bool copy_range_to(int fd, uint64_t from, uint64_t to, const std::string& path) {
  int out = open_private(path, O_WRONLY | O_APPEND);
  if (out < 0)
    return false;
  bool ok = true;
  std::string buf;
  while (ok && from < to) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(to - from, 1 << 16)));
    ok = pread_all(fd, buf.data(), buf.size(), from) && write_fully(out, buf, -1);
    from += buf.size();
  }
  ok = ok && ::fsync(out) == 0;
  ::close(out);
  return ok;
}

}  // namespace

uint32_t crc32(uint32_t crc, const void* data, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// -- spool ------------------------------------------------------------------------------

kafka_spool::kafka_spool(std::string path, uint64_t max_bytes)
  : path_(std::move(path)), max_bytes_(max_bytes) {
}

kafka_spool::~kafka_spool() {
  if (fd_ >= 0) {
    sync();
    ::close(fd_);
  }
}

std::string kafka_spool::open() {
  if (fd_ >= 0)
    return {};
  auto dir = std::filesystem::path(path_).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
  }
  fd_ = open_private(path_, O_RDWR);
  if (fd_ < 0)
    return "cannot open spool file " + path_ + ": " + errno_text(errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    auto why = errno_text(errno);
    ::close(fd_);
    fd_ = -1;
    return "cannot stat spool file " + path_ + ": " + why;
  }
  size_ = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;

  // The delivered offset: "v1 N" (this format) or a bare number (legacy).
  uint64_t stored = 0;
  bool tagged = false, have_offset = false;
  if (int ofd = ::open((path_ + ".offset").c_str(), O_RDONLY | O_CLOEXEC); ofd >= 0) {
    char buf[64] = {};
    auto n = ::read(ofd, buf, sizeof buf - 1);
    ::close(ofd);
    if (n > 0) {
      const char* p = buf;
      if (std::strncmp(p, "v1 ", 3) == 0) {
        tagged = true;
        p += 3;
      }
      char* end = nullptr;
      stored = std::strtoull(p, &end, 10);
      have_offset = end != p;
    }
  }

  if (size_ == 0) {
    delivered_ = 0;
    if (have_offset && (stored != 0 || !tagged))
      store_offset();  // stale offset of a spool that was emptied
    return {};
  }
  unsigned char head[header_size] = {};
  size_t head_len = static_cast<size_t>(std::min<uint64_t>(size_, header_size));
  if (!pread_all(fd_, head, head_len, 0))
    return "cannot read spool file " + path_ + ": " + errno_text(errno);
  if (std::memcmp(head, magic, std::min<size_t>(head_len, sizeof magic)) != 0) {
    // Headerless: the legacy format.
    if (!migrate_legacy(have_offset ? stored : 0))
      return "cannot convert legacy spool file " + path_ + ": " + last_error_;
    return {};
  }
  if (head_len < header_size) {
    cut_tail(0, "torn header");
    delivered_ = 0;
    store_offset();
    return {};
  }
  if (auto v = get_u32(head + 4); v != spool_version) {
    // Not ours to interpret: keep it aside, start an empty spool.
    auto aside = path_ + ".v" + std::to_string(v);
    ::close(fd_);
    fd_ = -1;
    if (std::rename(path_.c_str(), aside.c_str()) != 0)
      return "spool file " + path_ + " has unknown version " + std::to_string(v);
    std::cerr << "kafka spool: " << path_ << " has unknown version " << v << "; moved to "
              << aside << std::endl;
    size_ = 0;
    delivered_ = 0;
    return open();
  }
  // A bare offset next to a version-1 spool only exists right after a legacy
  // conversion (the converted file holds only undelivered records).
  delivered_ = (have_offset && tagged) ? stored : header_size;
  if (delivered_ < header_size)
    delivered_ = header_size;
  if (delivered_ > size_) {
    // The offset is past the end: the tail was delivered and then lost in a
    // crash before it reached the disk. Nothing is pending.
    delivered_ = size_;
  }
  uint64_t pos = delivered_;
  kafka_event e;
  uint64_t next = 0;
  while (pos < size_ && read_record(pos, e, next))
    pos = next;
  if (pos < size_)
    cut_tail(pos, pos + record_head > size_ ? "torn record" : "incomplete or corrupt record");
  if (empty())
    mark_delivered(size_);  // normalize: a drained spool is an empty file
  else if (!have_offset || !tagged || stored != delivered_)
    store_offset();
  return {};
}

bool kafka_spool::migrate_legacy(uint64_t legacy_offset) {
  if (legacy_offset > size_)
    legacy_offset = size_;
  auto tmp = path_ + ".v1.tmp";
  int out = open_private(tmp, O_WRONLY | O_TRUNC);
  if (out < 0) {
    write_failed("cannot create " + tmp, errno);
    return false;
  }
  uint64_t pos = legacy_offset, next = 0, out_size = 0;
  int64_t records = 0;
  kafka_event e;
  bool ok = true;
  while (ok && pos < size_ && read_legacy_record(fd_, size_, pos, e, next)) {
    std::string bytes = out_size == 0 ? header_bytes() : std::string{};
    bytes += encode_record(e);
    ok = write_fully(out, bytes, -1);
    out_size += bytes.size();
    pos = next;
    ++records;
  }
  ok = ok && ::fsync(out) == 0;
  int err = errno;
  ::close(out);
  if (!ok) {
    write_failed("cannot write " + tmp, err);
    ::unlink(tmp.c_str());
    return false;
  }
  uint64_t torn = size_ - pos;
  if (torn > 0 && !copy_range_to(fd_, pos, size_, path_ + ".cut"))
    std::cerr << "kafka spool: cannot keep the torn tail of " << path_ << " in " << path_
              << ".cut" << std::endl;
  if (std::rename(tmp.c_str(), path_.c_str()) != 0 || !fsync_directory_of(path_)) {
    write_failed("cannot replace " + path_, errno);
    return false;
  }
  ::close(fd_);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) {
    write_failed("cannot reopen " + path_, errno);
    return false;
  }
  size_ = out_size;
  delivered_ = out_size == 0 ? 0 : header_size;
  cut_bytes_ += torn;
  std::cerr << "kafka spool: converted legacy spool " << path_ << " to version "
            << spool_version << ": " << records << " undelivered records kept";
  if (torn > 0)
    std::cerr << ", " << torn << " bytes of a torn record cut (kept in " << path_ << ".cut)";
  std::cerr << std::endl;
  return store_offset();
}

void kafka_spool::cut_tail(uint64_t from, const char* why) {
  uint64_t bytes = size_ - from;
  bool kept = copy_range_to(fd_, from, size_, path_ + ".cut");
  if (::ftruncate(fd_, static_cast<off_t>(from)) != 0 || ::fdatasync(fd_) != 0) {
    write_failed("cannot truncate " + path_, errno);
    // The bad bytes stay on disk but are never read: appends go after them
    // only once size_ moves, and it does not move back.
  }
  size_ = from;
  cut_bytes_ += bytes;
  std::cerr << "kafka spool: cut " << bytes << " bytes (" << why << ") at the end of " << path_
            << (kept ? "; they are kept in " + path_ + ".cut" : std::string{}) << std::endl;
}

bool kafka_spool::read_record(uint64_t at, kafka_event& e, uint64_t& next) {
  unsigned char h[record_head];
  if (at + record_head > size_ || !pread_all(fd_, h, record_head, at))
    return false;
  uint64_t t = get_u32(h), k = get_u32(h + 4), p = get_u32(h + 8);
  uint64_t end = at + record_head + t + k + p;
  if (end > size_)
    return false;
  std::string body(static_cast<size_t>(t + k + p), '\0');
  if (!body.empty() && !pread_all(fd_, body.data(), body.size(), at + record_head))
    return false;
  uint32_t crc = crc32(crc32(0, h, 12), body.data(), body.size());
  if (crc != get_u32(h + 12))
    return false;
  e.topic.assign(body, 0, static_cast<size_t>(t));
  e.key.assign(body, static_cast<size_t>(t), static_cast<size_t>(k));
  e.payload.assign(body, static_cast<size_t>(t + k), static_cast<size_t>(p));
  next = end;
  return true;
}

void kafka_spool::write_failed(const std::string& what, int err) {
  ++write_errors_;
  failing_ = true;
  last_error_ = what + ": " + errno_text(err);
}

kafka_spool::append_result kafka_spool::append(const kafka_event& e) {
  if (fd_ < 0) {
    if (auto err = open(); !err.empty()) {
      ++write_errors_;
      failing_ = true;
      last_error_ = err;
      return append_result::write_error;
    }
  }
  if (full()) {
    ++refused_full_;
    return append_result::full;
  }
  std::string bytes = size_ == 0 ? header_bytes() : std::string{};
  bytes += encode_record(e);
  if (!write_fully(fd_, bytes, static_cast<int64_t>(size_))) {
    int err = errno;
    // Do not leave a partial record behind (it would be cut at the next
    // open anyway; this keeps the file clean for the appends that follow).
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    }
    write_failed("cannot write spool file " + path_, err);
    return append_result::write_error;
  }
  if (size_ == 0)
    delivered_ = header_size;
  size_ += bytes.size();
  dirty_ = true;
  failing_ = false;
  ++appended_;
  return append_result::kept;
}

bool kafka_spool::sync() {
  if (!dirty_ || fd_ < 0)
    return true;
  dirty_ = false;
  if (::fdatasync(fd_) != 0) {
    // After a failed fdatasync the kernel may have dropped the dirty pages:
    // the records appended since the last good sync may not survive a crash.
    write_failed("cannot sync spool file " + path_, errno);
    return false;
  }
  return true;
}

std::vector<kafka_event> kafka_spool::read_pending(size_t max, uint64_t& end_offset) {
  std::vector<kafka_event> out;
  end_offset = delivered_;
  if (fd_ < 0)
    return out;
  uint64_t pos = delivered_;
  while (out.size() < max && pos < size_) {
    kafka_event e;
    uint64_t next = 0;
    if (!read_record(pos, e, next)) {
      // Checked at open and written by us since: only a disk that changed
      // under us gets here. Cut it rather than stall replay on it.
      cut_tail(pos, "corrupt record found during replay");
      break;
    }
    out.push_back(std::move(e));
    pos = next;
  }
  end_offset = pos;
  return out;
}

bool kafka_spool::mark_delivered(uint64_t offset) {
  sync();
  delivered_ = offset;
  if (delivered_ >= size_ && fd_ >= 0) {
    // Everything went out: start over with an empty file. Truncate before
    // the offset is rewritten: a crash in between leaves an empty spool with
    // a stale offset, which open() recognizes; the other order could leave
    // the old records with offset 0 and send them all again.
    if (::ftruncate(fd_, 0) != 0 || ::fdatasync(fd_) != 0) {
      write_failed("cannot truncate spool file " + path_, errno);
      return false;
    }
    size_ = 0;
    delivered_ = 0;
    failing_ = false;
  }
  return store_offset();
}

bool kafka_spool::store_offset() {
  auto target = path_ + ".offset";
  auto tmp = target + ".tmp";
  int fd = open_private(tmp, O_WRONLY | O_TRUNC);
  if (fd < 0) {
    write_failed("cannot create " + tmp, errno);
    return false;
  }
  bool ok = write_fully(fd, "v1 " + std::to_string(delivered_) + "\n", -1) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    write_failed("cannot write " + tmp, err);
    return false;
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    write_failed("cannot rename " + tmp, errno);
    return false;
  }
  if (!fsync_directory_of(target)) {
    write_failed("cannot sync the directory of " + target, errno);
    return false;
  }
  return true;
}

// -- dead letters ------------------------------------------------------------------------

dead_letter_file::dead_letter_file(std::string path) : path_(std::move(path)) {
}

dead_letter_file::~dead_letter_file() {
  if (fd_ >= 0) {
    sync();
    ::close(fd_);
  }
}

bool dead_letter_file::write(const kafka_event& e, const std::string& reason) {
  if (fd_ < 0) {
    auto dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
    }
    fd_ = open_private(path_, O_WRONLY | O_APPEND);
    if (fd_ < 0) {
      last_error_ = "cannot open dead-letter file " + path_ + ": " + errno_text(errno);
      return false;
    }
  }
  nlohmann::ordered_json j = {{"time", iso8601_now()},
                              {"topic", e.topic},
                              {"key", e.key},
                              {"reason", reason},
                              {"payload", e.payload}};
  // Invalid UTF-8 is replaced so every line stays valid JSON.
  auto line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  struct stat st {};
  bool known = ::fstat(fd_, &st) == 0;
  if (!write_fully(fd_, line, -1)) {
    last_error_ = "cannot write dead-letter file " + path_ + ": " + errno_text(errno);
    if (known && ::ftruncate(fd_, st.st_size) != 0) {
    }
    return false;
  }
  dirty_ = true;
  return true;
}

bool dead_letter_file::sync() {
  if (!dirty_ || fd_ < 0)
    return true;
  dirty_ = false;
  if (::fdatasync(fd_) != 0) {
    last_error_ = "cannot sync dead-letter file " + path_ + ": " + errno_text(errno);
    return false;
  }
  return true;
}

}  // namespace adserver::storage
