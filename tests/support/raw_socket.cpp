#include "tests/support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace adserver::testing {

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string exchange(int fd, const std::string& request, int ms) {
  if (!request.empty() && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0)
    return {};
  std::string out;
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, ms) > 0) {
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && request.rfind("HEAD", 0) == 0)
      break;
    ms = 200;
  }
  return out;
}

}  // namespace adserver::testing
