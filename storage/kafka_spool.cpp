#include "storage/kafka_spool.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace adserver::storage {

namespace {

void put_u32(std::string& out, uint32_t x) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

bool get_u32(FILE* f, uint32_t& x) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4)
    return false;
  x = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  return true;
}

bool get_str(FILE* f, std::string& s) {
  uint32_t n;
  if (!get_u32(f, n) || n > (64u << 20))
    return false;
  s.resize(n);
  return n == 0 || std::fread(s.data(), 1, n, f) == n;
}

}  // namespace

kafka_spool::kafka_spool(std::string path) : path_(std::move(path)) {
}

kafka_spool::~kafka_spool() {
  if (file_) {
    sync();
    std::fclose(file_);
  }
}

std::string kafka_spool::open() {
  auto slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::error_code ec;
    std::filesystem::create_directories(path_.substr(0, slash), ec);
  }
  file_ = std::fopen(path_.c_str(), "a+b");
  if (!file_)
    return "cannot open spool file " + path_;
  std::fseek(file_, 0, SEEK_END);
  size_ = static_cast<uint64_t>(std::ftell(file_));
  std::ifstream in(path_ + ".offset");
  uint64_t off = 0;
  if (in >> off && off <= size_)
    delivered_ = off;
  return {};
}

void kafka_spool::append(const kafka_event& e) {
  std::string rec;
  put_u32(rec, static_cast<uint32_t>(e.topic.size()));
  rec += e.topic;
  put_u32(rec, static_cast<uint32_t>(e.key.size()));
  rec += e.key;
  put_u32(rec, static_cast<uint32_t>(e.payload.size()));
  rec += e.payload;
  std::fseek(file_, 0, SEEK_END);
  std::fwrite(rec.data(), 1, rec.size(), file_);
  size_ += rec.size();
  dirty_ = true;
  ++appended_;
}

void kafka_spool::sync() {
  if (!dirty_ || !file_)
    return;
  std::fflush(file_);
  ::fdatasync(fileno(file_));
  dirty_ = false;
}

std::vector<kafka_event> kafka_spool::read_pending(size_t max, uint64_t& end_offset) {
  std::vector<kafka_event> out;
  end_offset = delivered_;
  if (!file_)
    return out;
  std::fflush(file_);
  std::fseek(file_, static_cast<long>(delivered_), SEEK_SET);
  while (out.size() < max) {
    kafka_event e;
    if (!get_str(file_, e.topic) || !get_str(file_, e.key) || !get_str(file_, e.payload))
      break;
    out.push_back(std::move(e));
    end_offset = static_cast<uint64_t>(std::ftell(file_));
  }
  return out;
}

void kafka_spool::mark_delivered(uint64_t offset) {
  delivered_ = offset;
  if (delivered_ >= size_) {
    // Everything went out: start over with an empty file.
    std::fclose(file_);
    file_ = std::fopen(path_.c_str(), "w+b");
    size_ = 0;
    delivered_ = 0;
    dirty_ = true;
    sync();
  }
  store_offset();
}

void kafka_spool::store_offset() {
  auto tmp = path_ + ".offset.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << delivered_ << "\n";
  }
  std::rename(tmp.c_str(), (path_ + ".offset").c_str());
}

bool kafka_spool::empty() const {
  return delivered_ >= size_;
}

uint64_t kafka_spool::pending_bytes() const {
  return size_ - delivered_;
}

}  // namespace adserver::storage
