// The Dockerfile parser: directives, comments, continuations, forms, and errors by line.
#include <gtest/gtest.h>

#include "base/error.h"
#include "build/build.h"

namespace berth::build {
namespace {

TEST(BuildParser, StagesInstructionsAndMetaArgs) {
  auto df = parse_dockerfile(
      "ARG BASE=busybox\n"
      "FROM $BASE AS Builder\n"
      "# a comment\n"
      "RUN echo a \\\n"
      "  # a comment inside the continuation\n"
      "    && echo b\n"
      "\n"
      "from scratch\n"
      "COPY --from=builder --chown=1:2 [\"/a b\", \"/c/\"]\n"
      "CMD [\"sh\", \"-c\", \"x\"]\n"
      "CMD not json [\n");
  ASSERT_EQ(df.meta_args.size(), 1u);
  EXPECT_EQ(df.meta_args[0].args[0], "BASE=busybox");
  ASSERT_EQ(df.stages.size(), 2u);
  EXPECT_EQ(df.stages[0].base, "$BASE");
  EXPECT_EQ(df.stages[0].name, "builder");
  ASSERT_EQ(df.stages[0].instructions.size(), 1u);
  const auto& run = df.stages[0].instructions[0];
  EXPECT_EQ(run.keyword, "run");
  EXPECT_EQ(run.line, 4);
  EXPECT_FALSE(run.json_form);
  EXPECT_EQ(run.args[0], "echo a     && echo b");
  const auto& copy = df.stages[1].instructions[0];
  EXPECT_TRUE(copy.json_form);
  EXPECT_EQ(copy.args, (std::vector<std::string>{"/a b", "/c/"}));
  ASSERT_EQ(copy.flags.size(), 2u);
  EXPECT_EQ(copy.flags[0], (std::pair<std::string, std::string>{"from", "builder"}));
  EXPECT_TRUE(df.stages[1].instructions[1].json_form);
  EXPECT_FALSE(df.stages[1].instructions[2].json_form);
  EXPECT_EQ(df.stages[1].instructions[2].args[0], "not json [");
}

TEST(BuildParser, EscapeDirectiveAndEnvForms) {
  auto df = parse_dockerfile(
      "# syntax=docker/dockerfile:1\n"
      "# escape=`\n"
      "FROM busybox\n"
      "ENV A=1 B=\"two words\" `\n"
      "    C=3\n"
      "ENV LEGACY value with spaces\n"
      "LABEL \"x y\"=z\n");
  EXPECT_EQ(df.escape, '`');
  auto& ins = df.stages[0].instructions;
  EXPECT_EQ(ins[0].args, (std::vector<std::string>{"A", "1", "B", "\"two words\"", "C", "3"}));
  EXPECT_TRUE(ins[1].legacy_form);
  EXPECT_EQ(ins[1].args, (std::vector<std::string>{"LEGACY", "value with spaces"}));
  EXPECT_EQ(ins[2].args, (std::vector<std::string>{"\"x y\"", "z"}));
}

std::string parse_error(const std::string& text) {
  try {
    parse_dockerfile(text);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(BuildParser, ErrorsNameTheLine) {
  EXPECT_EQ(parse_error("FROM busybox\n\nFOO bar\n"),
            "Dockerfile parse error on line 3: unknown instruction: FOO");
  EXPECT_EQ(parse_error("FROM busybox\nshell sh -c\n"),
            "Dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form");
  EXPECT_EQ(parse_error("FROM busybox\nCOPY onlyone\n").substr(0, 50),
            "Dockerfile parse error on line 2: COPY requires at");
  EXPECT_EQ(parse_error("RUN x\n"),
            "Dockerfile parse error on line 1: no build stage in current context");
  EXPECT_EQ(parse_error("FROM a\nONBUILD FROM b\n"),
            "Dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(parse_error("# escape=x\nFROM a\n"),
            "Dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\");
  EXPECT_EQ(parse_error("\n# only a comment\n"), "the Dockerfile cannot be empty");
}

TEST(BuildParser, Heredocs) {
  auto df = parse_dockerfile(
      "FROM busybox\n"
      "RUN <<EOF\n"
      "  echo a\n"
      "\n"
      "EOF\n"
      "COPY <<-\"X\" 3<<'Y' /d/\n"
      "\t\tx $A\n"
      "\tX\n"
      "y\n"
      "Y\n"
      "RUN [\"echo\", \"<<EOF\"]\n"
      "RUN echo '<<EOF'\n");
  auto& ins = df.stages[0].instructions;
  ASSERT_EQ(ins.size(), 4u);
  ASSERT_EQ(ins[0].heredocs.size(), 1u);
  EXPECT_EQ(ins[0].heredocs[0].name, "EOF");
  EXPECT_EQ(ins[0].heredocs[0].content, "  echo a\n\n");
  EXPECT_TRUE(ins[0].heredocs[0].expand);
  ASSERT_EQ(ins[1].heredocs.size(), 2u);
  EXPECT_EQ(ins[1].heredocs[0].name, "X");
  EXPECT_TRUE(ins[1].heredocs[0].chomp);
  EXPECT_FALSE(ins[1].heredocs[0].expand);
  EXPECT_EQ(ins[1].heredocs[0].content, "x $A\n");
  EXPECT_EQ(ins[1].heredocs[1].name, "Y");
  EXPECT_EQ(ins[1].heredocs[1].content, "y\n");
  EXPECT_EQ(ins[1].line, 6);
  EXPECT_TRUE(ins[2].heredocs.empty()) << "no heredoc in a JSON form";
  EXPECT_TRUE(ins[3].heredocs.empty()) << "nor in quotes";
  EXPECT_EQ(ins[3].line, 12);
  try {
    parse_dockerfile("FROM busybox\nRUN <<EOF\necho\n");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Dockerfile parse error on line 2: unterminated heredoc EOF");
  }
}

}  // namespace
}  // namespace berth::build
