// `berth images`: rows built as docker's image formatter builds them (one per repository and
// tag, <none> for dangling images), then rendered through --format.
#include <map>

#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/image_rows.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

const char* const kDefaultFormat =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const char* const kDigestsFormat =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

}  // namespace

json image_headers() {
  return {{"ID", "IMAGE ID"},
          {"Repository", "REPOSITORY"},
          {"Tag", "TAG"},
          {"Digest", "DIGEST"},
          {"CreatedSince", "CREATED"},
          {"CreatedAt", "CREATED AT"},
          {"Size", "SIZE"},
          {"Containers", "CONTAINERS"},
          {"SharedSize", "SHARED SIZE"},
          {"UniqueSize", "UNIQUE SIZE"},
          {"VirtualSize", "VIRTUAL SIZE"}};
}

namespace {

std::vector<std::string> strings_of(const json& image, const char* key) {
  std::vector<std::string> out;
  if (auto it = image.find(key); it != image.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

int64_t int_of(const json& image, const char* key, int64_t fallback) {
  auto it = image.find(key);
  return it != image.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

bool is_dangling(const std::vector<std::string>& tags, const std::vector<std::string>& digests) {
  if (tags.empty() && digests.empty()) return true;
  return tags.size() == 1 && tags[0] == "<none>:<none>" && digests.size() == 1 &&
         digests[0] == "<none>@<none>";
}

// The fields of docker's imageContext for one row.
json image_row(const json& image, const std::string& repo, const std::string& tag,
               const std::string& digest, bool trunc) {
  std::string id = image.value("Id", std::string());
  int64_t created = int_of(image, "Created", 0);
  int64_t size = int_of(image, "Size", 0);
  int64_t shared = int_of(image, "SharedSize", -1);
  int64_t containers = int_of(image, "Containers", -1);
  int64_t virtual_size = int_of(image, "VirtualSize", size);
  // docker prints Size with 3 significant digits and the other sizes with 4.
  auto sz = [](int64_t n) { return human_size(static_cast<double>(n), 3); };
  auto sz4 = [](int64_t n) { return human_size(static_cast<double>(n)); };
  return {{"ID", trunc ? truncate_id(id) : id},
          {"Repository", repo},
          {"Tag", tag},
          {"Digest", digest},
          {"CreatedSince", time_ago(created)},
          {"CreatedAt", go_time_string(created)},
          {"Size", sz(size)},
          {"Containers", containers == -1 ? "N/A" : std::to_string(containers)},
          {"SharedSize", shared == -1 ? "N/A" : sz4(shared)},
          {"UniqueSize", shared == -1 ? "N/A" : sz4(size - shared)},
          {"VirtualSize", sz4(virtual_size)}};
}

// A reference such as "busybox:latest" or "busybox@sha256:..." split into its familiar name
// and the part after ':' or '@'; nothing is split when the string does not parse.
void split_repo_tag(const std::string& ref, std::string& repo, std::string& tag, char sep) {
  try {
    oci::Reference r = oci::parse_reference(ref);
    repo = r.familiar_name();
    tag = sep == '@' ? r.digest : r.tag;
  } catch (const Error&) {
    repo.clear();
    tag.clear();
  }
}

}  // namespace

// docker's imageFormatTaggedAndDigest, keeping the daemon's order instead of Go's random
// map order.
void add_image_rows(const json& image, bool trunc, bool show_digests, std::vector<json>& rows) {
  auto tags = strings_of(image, "RepoTags");
  auto digests = strings_of(image, "RepoDigests");
  if (is_dangling(tags, digests)) {
    rows.push_back(image_row(image, "<none>", "<none>", "<none>", trunc));
    return;
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> repo_tags, repo_digests;
  auto push = [](auto& list, const std::string& repo, const std::string& v) {
    for (auto& [r, vs] : list)
      if (r == repo) return vs.push_back(v);
    list.push_back({repo, {v}});
  };
  for (const auto& t : tags) {
    std::string repo, tag;
    split_repo_tag(t, repo, tag, ':');
    if (!repo.empty() && !tag.empty()) push(repo_tags, repo, tag);
  }
  for (const auto& d : digests) {
    std::string repo, digest;
    split_repo_tag(d, repo, digest, '@');
    if (!repo.empty() && !digest.empty()) push(repo_digests, repo, digest);
  }
  for (const auto& [repo, ts] : repo_tags) {
    std::vector<std::string> ds;
    for (auto it = repo_digests.begin(); it != repo_digests.end(); ++it) {
      if (it->first != repo) continue;
      if (show_digests) ds = it->second;
      repo_digests.erase(it);  // digests of a tagged repository never get rows of their own
      break;
    }
    for (const auto& tag : ts) {
      if (ds.empty()) rows.push_back(image_row(image, repo, tag, "<none>", trunc));
      for (const auto& d : ds) rows.push_back(image_row(image, repo, tag, d, trunc));
    }
  }
  for (const auto& [repo, ds] : repo_digests) {
    if (!show_digests) {
      rows.push_back(image_row(image, repo, "<none>", "", trunc));
      continue;
    }
    for (const auto& d : ds) rows.push_back(image_row(image, repo, "<none>", d, trunc));
  }
}

namespace {

struct ImagesOptions {
  bool all = false, quiet = false, digests = false, no_trunc = false;
  std::vector<std::string> filters;
  std::string format;
};

}  // namespace

void register_image_list(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"image ls", "image list", "images"},
         .usage = "[OPTIONS] [REPOSITORY[:TAG]]",
         .summary = "List images",
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<ImagesOptions>();
          app.add_flag("-a,--all", o->all, "Show all images (default hides intermediate images)");
          app.add_flag("--digests", o->digests, "Show digests");
          app.add_option("-f,--filter", o->filters, "Filter output based on conditions provided")
              ->allow_extra_args(false)
              ->type_name("filter");
          add_format_flag(app, o->format);
          app.add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
          app.add_flag("-q,--quiet", o->quiet, "Only show image IDs");
          return [&ctx, o, &args] {
            std::vector<std::string> filters = o->filters;
            if (!args.empty()) filters.push_back("reference=" + args[0]);
            Query q;
            q.flag("all", o->all);
            if (auto f = filters_json(filters); !f.empty()) q.add("filters", f);
            json images = ctx.api().call("GET", "/images/json", q);
            std::vector<json> rows;
            for (const auto& img : images) add_image_rows(img, !o->no_trunc, o->digests, rows);
            std::string format = o->format;
            if (o->quiet) {
              format = "{{.ID}}";
            } else if (format.empty() && ctx.config().contains("imagesFormat") &&
                       ctx.config()["imagesFormat"].is_string()) {
              format = ctx.config()["imagesFormat"].get<std::string>();
            }
            ListFormat lf{format, o->digests ? kDigestsFormat : kDefaultFormat, image_headers()};
            if (o->digests && format == "table") lf.format.clear();
            print_out(render_list(lf, rows));
            return 0;
          };
        });
}

}  // namespace berth::cli
