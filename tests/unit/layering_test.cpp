// The layers depend one way: net/ -> actors/ -> storage/ -> protocol/
// (docs/architecture.md, "Layout"). Reads the source tree's include lines, so
// an include against the direction fails here rather than in a review.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

/// Each layer and the layers of this project it may include besides itself.
const std::map<std::string, std::set<std::string>> allowed = {
  {"config", {}},
  {"protocol", {}},
  {"storage", {"protocol", "config"}},
  {"actors", {"storage", "protocol", "config"}},
  {"net", {"actors", "storage", "protocol", "config"}},
};

const std::set<std::string> project_dirs = {"protocol", "storage", "actors", "net", "config",
                                            "app", "tools", "tests", "bench"};

/// The include lines of a file that name a project directory, in any
/// spelling (`# include`, <...>, "../dir/"): (line number, dir).
std::vector<std::pair<int, std::string>> project_includes(const fs::path& file) {
  static const std::regex include{R"(^\s*#\s*include\s*[<"](?:\.\./)*([A-Za-z_]+)/)"};
  std::vector<std::pair<int, std::string>> out;
  std::ifstream in{file};
  std::string line;
  std::smatch m;
  for (int n = 1; std::getline(in, line); ++n)
    if (std::regex_search(line, m, include) && project_dirs.count(m[1].str()) > 0)
      out.emplace_back(n, m[1].str());
  return out;
}

}  // namespace

TEST(Layering, EachLayerIncludesOnlyTheLayersBelowIt) {
  const fs::path root{ADSERVER_SOURCE_DIR};
  size_t files = 0;
  std::vector<std::string> wrong;
  for (auto& [layer, below] : allowed) {
    ASSERT_TRUE(fs::is_directory(root / layer)) << layer;
    for (auto& entry : fs::recursive_directory_iterator(root / layer)) {
      auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".hpp" && ext != ".cpp"))
        continue;
      ++files;
      for (auto& [line, dir] : project_includes(entry.path()))
        if (dir != layer && below.count(dir) == 0)
          wrong.push_back(fs::relative(entry.path(), root).string() + ":" + std::to_string(line)
                          + " includes " + dir + "/");
    }
  }
  EXPECT_GT(files, 100u);  // the tree was found and read
  for (auto& w : wrong)
    ADD_FAILURE() << w;
}

TEST(Layering, TheCheckSeesAnIncludeAgainstTheDirection) {
  auto file = fs::temp_directory_path()
              / ("adserver_layering_probe_" + std::to_string(::getpid()) + ".cpp");
  std::ofstream{file} << "#include \"storage/statements.hpp\"\n"
                      << "#include <string>\n"
                      << "  #  include  <actors/ledger.hpp>\n"
                      << "#include \"../net/router.hpp\"\n"
                      << "// #include \"net/router.hpp\" in a comment\n";
  auto found = project_includes(file);
  fs::remove(file);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], std::make_pair(1, std::string{"storage"}));
  EXPECT_EQ(found[1], std::make_pair(3, std::string{"actors"}));
  EXPECT_EQ(found[2], std::make_pair(4, std::string{"net"}));
}
