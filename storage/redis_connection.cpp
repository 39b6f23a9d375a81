#include "storage/redis_connection.hpp"

#include <hiredis/hiredis.h>

namespace adserver::storage {

redis_connection::redis_connection(std::string host, int port, int timeout_ms)
  : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {
}

redis_connection::~redis_connection() {
  close();
}

void redis_connection::close() {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

bool redis_connection::connected() const {
  return ctx_ != nullptr && ctx_->err == 0;
}

std::string redis_connection::connect() {
  close();
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (ctx_ == nullptr)
    return "cannot allocate redis context";
  if (ctx_->err) {
    std::string err = ctx_->errstr;
    close();
    return err;
  }
  redisSetTimeout(ctx_, tv);
  return {};
}

bool redis_connection::pipeline(const std::vector<command>& commands,
                                std::vector<reply>& replies, std::string& err) {
  replies.clear();
  if (!connected()) {
    err = "not connected";
    return false;
  }
  for (auto& cmd : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      err = ctx_->errstr[0] ? ctx_->errstr : "redis connection lost";
      close();
      return false;
    }
    auto* r = static_cast<redisReply*>(raw);
    reply out = convert(r);
    freeReplyObject(r);
    replies.push_back(std::move(out));
  }
  return true;
}

redis_connection::reply redis_connection::convert(const redisReply* r) {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_ERROR:
      out.ok = false;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.ok = true;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.ok = true;
      out.text = std::to_string(r->integer);
      break;
    case REDIS_REPLY_NIL:
      out.ok = true;
      out.nil = true;
      break;
    case REDIS_REPLY_ARRAY:
      out.ok = true;
      for (size_t k = 0; k < r->elements; ++k) {
        auto* e = r->element[k];
        if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
          out.elements.emplace_back(e->str, e->len);
        else if (e->type == REDIS_REPLY_INTEGER)
          out.elements.push_back(std::to_string(e->integer));
        else
          out.elements.emplace_back();
        out.children.push_back(convert(e));
      }
      break;
    default:
      out.ok = true;
  }
  return out;
}

bool redis_connection::run(const command& cmd, reply& out, std::string& err) {
  std::vector<reply> replies;
  if (!pipeline({cmd}, replies, err))
    return false;
  out = std::move(replies.front());
  return true;
}

}  // namespace adserver::storage
