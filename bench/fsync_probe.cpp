// Benchmark (not a test): how long the disk under a directory takes to make
// an 8 KB write durable (write, fdatasync, 2 ms pause, for SECONDS), as
// percentiles. Run it idle and during bench/clicks: a click's COMMIT waits
// for the same kind of flush of PostgreSQL's WAL.
//   build/bench/fsync_probe [DIRECTORY] [SECONDS]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".";
  double seconds = argc > 2 ? std::stod(argv[2]) : 10;
  std::string path = dir + "/fsync-probe.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    return 1;
  }
  std::vector<char> page(8192, 'x');
  for (int i = 0; i < 256; ++i)  // the file's blocks exist before timing starts
    if (::write(fd, page.data(), page.size()) < 0)
      return 1;
  ::fsync(fd);
  using clock = std::chrono::steady_clock;
  std::vector<double> ms;
  auto end = clock::now() + std::chrono::duration<double>(seconds);
  for (long i = 0; clock::now() < end; ++i) {
    if (::pwrite(fd, page.data(), page.size(), (i % 256) * 8192) < 0)
      return 1;
    auto t = clock::now();
    ::fdatasync(fd);
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::close(fd);
  ::unlink(path.c_str());
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * (ms.size() - 1))]; };
  long over5 = std::count_if(ms.begin(), ms.end(), [](double x) { return x > 5; });
  std::printf("%zu fdatasync of 8 KB: p50 %.3f p90 %.3f p99 %.3f p999 %.3f max %.1f ms; over 5 ms: %ld\n",
              ms.size(), at(0.5), at(0.9), at(0.99), at(0.999), ms.back(), over5);
  return 0;
}
