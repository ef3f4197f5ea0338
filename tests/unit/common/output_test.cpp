// cube::output: every format from one Table, and the stdout write path including a closed pipe.
#include "output.hpp"
#include "error.hpp"
#include "output_stream.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <csignal>

using namespace cube;
using output::Align;
using output::Cell;
using output::Format;
using output::Table;

namespace {

// Colour is decided once per process; the tests compare plain text whatever the terminal.
const int k_no_colour = ::setenv("NO_COLOR", "1", 1);

// What print() (or print_record()) sends to stdout.
std::string render(const Table& t, Format f, bool record = false) {
  test::Redirect out(STDOUT_FILENO);
  if (record)
    output::print_record(t, f);
  else
    output::print(t, f);
  output::flush();
  return out.text();
}

Table sample() {
  Table t({{"name", "NAME"}, {"cpu", "CPU", Align::right}, {"ready", "READY"}, {"note", "NOTE"}});
  t.add({"a", 5, true, std::monostate{}});
  t.add({"bbbbbb", int64_t{1234}, false, "x"});
  return t;
}

}  // namespace

TEST(Output, TableIsAlignedWithNullAndBools) {
  ASSERT_EQ(k_no_colour, 0);
  EXPECT_EQ(render(sample(), Format::table),
            "NAME     CPU  READY  NOTE\n"
            "a          5  yes    -\n"
            "bbbbbb  1234  no     x\n");
}

TEST(Output, EmptyTableShowsHeaderOrEmptyArray) {
  Table t({{"id", "ID"}, {"size", "SIZE", Align::right}});
  EXPECT_EQ(render(t, Format::table), "ID  SIZE\n");
  EXPECT_EQ(render(t, Format::json), "[]\n");
  EXPECT_EQ(render(t, Format::jsonl), "");
  EXPECT_EQ(render(t, Format::tsv), "id\tsize\n");
  EXPECT_EQ(render(t, Format::table, true), "");
}

TEST(Output, JsonAndJsonLinesCarryTypes) {
  Table t = sample();
  t.add({"c", -1, true, 2.5});
  EXPECT_EQ(render(t, Format::json), R"([{"name":"a","cpu":5,"ready":true,"note":null},)"
                                     R"({"name":"bbbbbb","cpu":1234,"ready":false,"note":"x"},)"
                                     R"({"name":"c","cpu":-1,"ready":true,"note":2.5}])"
                                     "\n");
  EXPECT_EQ(render(t, Format::jsonl), R"({"name":"a","cpu":5,"ready":true,"note":null})"
                                      "\n"
                                      R"({"name":"bbbbbb","cpu":1234,"ready":false,"note":"x"})"
                                      "\n"
                                      R"({"name":"c","cpu":-1,"ready":true,"note":2.5})"
                                      "\n");
}

TEST(Output, TsvHasKeysAsHeaderAndEscapes) {
  Table t({{"k", "K"}, {"v", "V"}, {"b", "B"}});
  t.add({"a\tb", "line1\nline2\r", true});
  t.add({"back\\slash", std::monostate{}, false});
  EXPECT_EQ(render(t, Format::tsv),
            "k\tv\tb\n"
            "a\\tb\tline1\\nline2\\r\ttrue\n"
            "back\\\\slash\t\tfalse\n");
}

TEST(Output, JsonEscapesStrings) {
  Table t(std::vector<output::Column>{{"s", "S"}});
  t.add({std::string("quote\" back\\ nl\n tab\t bell\x07 nul\0!", 33)});
  std::string json = render(t, Format::json);
  EXPECT_EQ(json, R"([{"s":"quote\" back\\ nl\n tab\t bell\u0007 nul\u0000!"}])"
                  "\n");
  EXPECT_EQ(nlohmann::json::parse(json)[0]["s"], std::string("quote\" back\\ nl\n tab\t bell\x07 nul\0!", 33));
}

TEST(Output, TableEscapesControlBytes) {
  Table t({{"s", "S"}, {"n", "N"}});
  t.add({"evil\x1b[2Jx\ty\x7f", "é"});
  // The escape sequence cannot reach the terminal; the width counts the escaped text.
  EXPECT_EQ(render(t, Format::table),
            "S                      N\n"
            "evil\\x1b[2Jx\\x09y\\x7f  é\n");
}

TEST(Output, AlignmentCountsCodePointsNotBytes) {
  Table t({{"a", "A"}, {"b", "B"}});
  t.add({"ééé", "x"});
  t.add({"abcd", "y"});
  EXPECT_EQ(render(t, Format::table),
            "A     B\n"
            "ééé   x\n"
            "abcd  y\n");
}

TEST(Output, RecordInEveryFormat) {
  Table t = sample();
  EXPECT_EQ(render(t, Format::table, true),
            "NAME:  a\n"
            "CPU:   5\n"
            "READY: yes\n"
            "NOTE:  -\n");
  EXPECT_EQ(render(t, Format::json, true), R"({"name":"a","cpu":5,"ready":true,"note":null})"
                                           "\n");
  EXPECT_EQ(render(t, Format::jsonl, true), R"({"name":"a","cpu":5,"ready":true,"note":null})"
                                            "\n");
  EXPECT_EQ(render(t, Format::tsv, true), "name\tcpu\tready\tnote\na\t5\ttrue\t\n");
}

TEST(Output, RecordEscapesControlBytes) {
  Table t(std::vector<output::Column>{{"s", "S"}});
  t.add({"a\nb"});
  EXPECT_EQ(render(t, Format::table, true), "S: a\\x0ab\n");
}

// What a RowStream of the table's rows sends to stdout, one refilled row vector for every add().
std::string render_stream(const Table& t, Format f) {
  test::Redirect out(STDOUT_FILENO);
  output::RowStream stream(t.columns(), f);
  std::vector<Cell> row(t.columns().size());
  for (const auto& r : t.rows()) {
    for (size_t i = 0; i < r.size(); ++i) row[i] = r[i];
    stream.add(row);
  }
  stream.finish();
  output::flush();
  return out.text();
}

TEST(Output, RowStreamWritesWhatPrintWrites) {
  Table t = sample();
  t.add({"tab\there", -1, true, 2.5});
  Table empty({{"id", "ID"}, {"size", "SIZE", Align::right}});
  for (Format f : {Format::table, Format::json, Format::jsonl, Format::tsv}) {
    EXPECT_EQ(render_stream(t, f), render(t, f)) << output::format_name(f);
    EXPECT_EQ(render_stream(empty, f), render(empty, f)) << output::format_name(f);
  }
}

TEST(Output, RowStreamRefusesARowOfTheWrongWidth) {
  test::Redirect out(STDOUT_FILENO);
  output::RowStream stream({{"a", "A"}, {"b", "B"}}, Format::tsv);
  EXPECT_THROW(stream.add({"only one"}), Error);
  output::flush();
}

TEST(Output, RowOfTheWrongWidthIsRefused) {
  Table t({{"a", "A"}, {"b", "B"}});
  EXPECT_THROW(t.add({"only one"}), Error);
  EXPECT_THROW(t.add({1, 2, 3}), Error);
  EXPECT_TRUE(t.empty());
}

TEST(Output, Formats) {
  for (Format f : {Format::table, Format::json, Format::jsonl, Format::tsv})
    EXPECT_EQ(output::parse_format(output::format_name(f)), f);
  try {
    output::parse_format("yaml");
    ADD_FAILURE() << "yaml accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find("yaml"), std::string::npos);
  }
}

TEST(Output, CellText) {
  EXPECT_EQ(output::cell_text(std::monostate{}), "-");
  EXPECT_EQ(output::cell_text(true), "yes");
  EXPECT_EQ(output::cell_text(false), "no");
  EXPECT_EQ(output::cell_text(int64_t{-42}), "-42");
  EXPECT_EQ(output::cell_text(0.25), "0.25");
  EXPECT_EQ(output::cell_text(std::string("t")), "t");
}

TEST(Output, NoColourOffATerminal) {
  EXPECT_FALSE(output::colour_enabled());
  EXPECT_EQ(output::paint("x", output::Style::bad), "x");
}

// ---- the write path ----------------------------------------------------------------------------------

TEST(Output, LargeOutputArrivesWhole) {
  std::string line(99, 'z');
  line += '\n';
  test::Redirect out(STDOUT_FILENO);
  for (int i = 0; i < 5000; ++i) output::write(line);  // crosses the 64 KiB flush point many times
  output::flush();
  std::string got = out.text();
  EXPECT_EQ(got.size(), 5000u * 100);
  EXPECT_EQ(test::count(got, line), 5000u);
}

namespace {

// Points stdout at `fd` for the scope; puts the original back afterwards.
class StdoutTo {
 public:
  explicit StdoutTo(int fd) : m_saved(::dup(STDOUT_FILENO)) {
    std::fflush(stdout);
    ::dup2(fd, STDOUT_FILENO);
  }
  ~StdoutTo() {
    ::dup2(m_saved, STDOUT_FILENO);
    ::close(m_saved);
  }

 private:
  int m_saved;
};

}  // namespace

TEST(Output, ClosedPipeIsStdoutClosedAndDropsTheBuffer) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);  // nobody reads: the next write gets EPIPE
  auto old = std::signal(SIGPIPE, SIG_IGN);
  {
    StdoutTo to(p[1]);
    output::write("first line\n");
    EXPECT_THROW(output::flush(), output::StdoutClosed);
  }
  ::close(p[1]);
  std::signal(SIGPIPE, old);
  // The failed text is gone: the next flush does not repeat it.
  test::Redirect out(STDOUT_FILENO);
  output::write("next\n");
  output::flush();
  EXPECT_EQ(out.text(), "next\n");
}

TEST(Output, ClosedPipeAlsoWhenTheBufferFillsUp) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);
  auto old = std::signal(SIGPIPE, SIG_IGN);
  {
    StdoutTo to(p[1]);
    EXPECT_THROW(output::write(std::string(200 * 1024, 'x')), output::StdoutClosed);
  }
  ::close(p[1]);
  std::signal(SIGPIPE, old);
}

TEST(Output, OtherWriteErrorsFailTheTool) {
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "no /dev/full";
  {
    StdoutTo to(full);
    output::write("x\n");
    try {
      output::flush();
      ADD_FAILURE() << "write to /dev/full succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::failed);
      EXPECT_NE(std::string(e.what()).find("standard output"), std::string::npos);
      EXPECT_EQ(e.hint(), "the disk is full");
    }
  }
  ::close(full);
  int ro = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  {
    StdoutTo to(ro);
    output::write("y\n");
    EXPECT_THROW(output::flush(), Error);
  }
  ::close(ro);
}
