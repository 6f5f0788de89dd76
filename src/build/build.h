// Dockerfile builds: the parser, Docker's variable substitution, .dockerignore rules, and the
// builder that walks stages and instructions. The builder sees only a StepRunner (run a
// command in a container and commit it, copy files into a snapshot and commit it, commit a
// config), never the engine.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::build {

// A here-document of RUN, COPY or ADD (`<<EOF` ... `EOF`): its name (the delimiter, quotes
// removed) and its lines. `<<-` strips the lines' leading tabs; a quoted delimiter turns off
// the Dockerfile's variable expansion in COPY/ADD's files.
struct Heredoc {
  std::string name;
  std::string content;  // each line with its '\n', the delimiter's line not included
  bool chomp = false;
  bool expand = true;
};

// One instruction as written: its keyword (lower case), the `--name=value` flags before its
// arguments, and its arguments (a JSON form's strings, or the words or rest of the line).
struct Instruction {
  std::string keyword;
  std::vector<std::pair<std::string, std::string>> flags;
  std::vector<std::string> args;
  bool json_form = false;    // RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD/VOLUME written as a JSON array
  bool legacy_form = false;  // ENV/LABEL's one-pair `key value` form
  std::string original;      // the instruction's text, continuation lines joined
  int line = 0;              // where it starts
  std::vector<Heredoc> heredocs;  // in the order their markers appear
};

struct Stage {
  Instruction from;
  std::string base;  // FROM's image, unexpanded
  std::string name;  // AS name, lower case
  std::vector<Instruction> instructions;
};

struct Dockerfile {
  char escape = '\\';
  std::vector<Instruction> meta_args;  // ARGs before the first FROM
  std::vector<Stage> stages;
};

// Throws InvalidArgument "Dockerfile parse error on line N: ..." in Docker's words.
Dockerfile parse_dockerfile(std::string_view text);
// One instruction's line (ONBUILD triggers are stored so).
Instruction parse_instruction(std::string_view line, int line_no, char escape = '\\');

// Docker's word processing: quotes, the escape character, $VAR, ${VAR}, ${VAR:-word},
// ${VAR:+word}. `lookup` returns nullopt for an unset variable.
using Lookup = std::function<std::optional<std::string>(const std::string&)>;
std::string expand_word(std::string_view word, const Lookup& lookup, char escape = '\\');
// A COPY/ADD here-document's text: variables expanded, quotes and escapes kept as written.
std::string expand_heredoc(std::string_view text, const Lookup& lookup, char escape = '\\');
// `word` as a here-document marker (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`): the name, chomp
// and expand set; nullopt when it is not one.
std::optional<Heredoc> heredoc_marker(std::string_view word);
// The same, split into words on unquoted white space (EXPOSE, VOLUME, COPY's shell form).
std::vector<std::string> expand_words(std::string_view text, const Lookup& lookup,
                                      char escape = '\\');

// .dockerignore: patterns (with `**` and `!` exceptions), the last that matches wins.
class DockerIgnore {
 public:
  DockerIgnore() = default;
  explicit DockerIgnore(std::string_view text);
  // `path` relative to the context root, with '/' separators.
  bool excluded(std::string_view path) const;
  bool empty() const { return rules_.empty(); }
  // Whether a directory's contents might be re-included by an exception below it.
  bool has_exceptions() const;

 private:
  struct Rule {
    std::vector<std::string> parts;
    bool exception = false;
  };
  std::vector<Rule> rules_;
};

// An image as the builder sees it: its id and its container config (Docker's JSON).
struct ImageRef {
  std::string id;
  nlohmann::json config = nlohmann::json::object();
};

// The files of an image or of the context, opened as a directory fd in which paths are
// resolved as if it were the root.
using RootFn = std::function<void(int root_fd)>;

// A mount of a RUN step's container (RUN --mount, and here-document scripts).
struct RunMount {
  enum class Type { kBind, kTmpfs };
  Type type = Type::kBind;
  std::string source;  // bind: a path on the host
  std::string target;  // absolute, in the container
  bool read_only = true;
  int64_t size = 0;  // tmpfs: bytes, 0 for the kernel's default
};

struct RunStep {
  ImageRef parent;
  nlohmann::json config;        // the container's: Cmd, Env (with build args), User, ...
  std::string network;          // "default", "none", "host"
  std::string created_by;       // history
  std::string author;           // the committed image's Author (MAINTAINER)
  nlohmann::json image_config;  // the committed image's config
  std::vector<RunMount> mounts;
  std::function<void(std::string_view)> output;  // the command's output, as it comes
  std::function<void(const std::string& container_id)> started;
};

// What the engine does for the builder.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // Resolves FROM's image (NotFound when there is none).
  virtual ImageRef image(const std::string& ref) = 0;
  // Runs the command in a container and commits it; throws with the exit status.
  virtual std::string run(const RunStep& step) = 0;
  // A snapshot on top of `parent` that `write` fills through its root, committed with the
  // config and history entry given. `container_id` reports the intermediate container.
  // `independent` (COPY --link): the snapshot starts empty instead of from the parent's
  // files, so that the layer does not depend on them.
  virtual std::string copy(const ImageRef& parent, const nlohmann::json& config,
                           const std::string& created_by, const std::string& author,
                           bool independent, const RootFn& write,
                           const std::function<void(const std::string&)>& started) = 0;
  // COPY --link from the cache: a new image on `parent` whose layer is the top layer of
  // `layer_of` (an image an earlier independent copy made).
  virtual std::string reuse_layer(const ImageRef& parent, const std::string& layer_of,
                                  const nlohmann::json& config, const std::string& created_by,
                                  const std::string& author) = 0;
  // A new image with only a config change (an empty layer in its history).
  virtual std::string commit_config(const ImageRef& parent, const nlohmann::json& config,
                                    const std::string& created_by, const std::string& author) = 0;
  // An image's files, read only, for COPY --from.
  virtual void with_image_root(const std::string& image_id, const RootFn& fn) = 0;
  virtual ImageRef get(const std::string& image_id) = 0;
  // The build cache: the image a step made before, and remembering one.
  virtual std::optional<std::string> cached(const std::string& key) = 0;
  virtual void remember(const std::string& key, const std::string& image_id) = 0;
};

struct BuildOptions {
  std::string context_dir;  // the context, extracted
  std::string dockerfile_text;
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::string target;
  std::string network = "default";
  bool no_cache = false;
  // Files of this build alone (RUN's here-document scripts), removed with it.
  std::string scratch_dir;
  // RUN --mount=type=cache's directories, kept from build to build.
  std::string cache_mount_dir;
};

// Runs the build; `out` gets Docker's step lines. Returns the final image's id.
std::string run_build(const BuildOptions& opts, StepRunner& runner,
                      const std::function<void(const std::string&)>& out);

}  // namespace berth::build
