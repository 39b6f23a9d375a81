// An invalid configuration refuses to start with a message naming the option.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct run_result {
  int exit_code;
  std::string output;
};

run_result run(const std::string& args, const std::string& env = "") {
  auto cmd = env + " " + std::string{ADSERVER_BIN} + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p))
    out += buf;
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string valid =
  "--admin.tokens=ops:0123456789abcdef --security.hmac_secret=0123456789abcdef0123456789abcdef";

TEST(Config, InvalidValuesNameTheOption) {
  auto r = run(valid + " --http.port=70000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("http.port"), std::string::npos) << r.output;
  r = run(valid + " --kafka.partitions=zero");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("kafka.partitions"), std::string::npos) << r.output;
  r = run(valid + " --no.such.option=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no.such.option"), std::string::npos) << r.output;
  r = run(valid + " --time_zone=Mars/Olympus --postgres.conninfo=host=127.0.0.1\\ port=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("time_zone"), std::string::npos) << r.output;
}

TEST(Config, SecretsAreRequired) {
  auto r = run("--security.hmac_secret=0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("admin.tokens"), std::string::npos) << r.output;
  r = run("--admin.tokens=ops:short");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("admin.tokens"), std::string::npos) << r.output;
  r = run("--admin.tokens=ops:0123456789abcdef --security.hmac_secret=short");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("security.hmac_secret"), std::string::npos) << r.output;
}

TEST(Config, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  auto file = "/tmp/adserver-config-test.conf";
  {
    FILE* f = std::fopen(file, "w");
    std::fputs("http.port = 1\nadmin.tokens = ops:0123456789abcdef\n", f);
    std::fclose(f);
  }
  // The file's valid port is overridden by an invalid one from the
  // environment, which a valid flag overrides again: only then does the
  // server get as far as the (unknown) time zone.
  auto r = run(std::string{"--config "} + file
               + " --security.hmac_secret=0123456789abcdef0123456789abcdef --time_zone=Nowhere/Land");
  EXPECT_NE(r.output.find("time_zone"), std::string::npos) << r.output;
  auto base = std::string{"--config "} + file
              + " --security.hmac_secret=0123456789abcdef0123456789abcdef";
  r = run(base, "ADSERVER_HTTP_PORT=abc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("ADSERVER_HTTP_PORT"), std::string::npos) << r.output;
  r = run(base + " --http.port=0 --time_zone=Nowhere/Land", "ADSERVER_HTTP_PORT=abc");
  EXPECT_NE(r.output.find("time_zone"), std::string::npos) << r.output;
  std::remove(file);
}

TEST(Config, ATakenPortEndsTheProcessAndTheLogMasksSecrets) {
  // Hold a port, then ask the server for it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto port = std::to_string(ntohs(addr.sin_port));
  // `timeout` turns a hang into exit status 124.
  auto r = run(valid + " --http.port=" + port
                 + " --kafka.spool_path=/tmp/adserver-config-test-spool.bin",
               "timeout 60");
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("http.port"), std::string::npos) << r.output;
  // The start-up configuration line names the options, never the secrets.
  EXPECT_NE(r.output.find("\"event\":\"config\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"admin.tokens\":{\"value\":\"ops:****\""), std::string::npos)
    << r.output;
  EXPECT_EQ(r.output.find("0123456789abcdef"), std::string::npos) << r.output;
  std::remove("/tmp/adserver-config-test-spool.bin");
}

}  // namespace
