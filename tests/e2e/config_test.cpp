// An invalid configuration refuses to start with a message naming the option.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

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

}  // namespace
