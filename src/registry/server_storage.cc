#include "registry/server_storage.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.h"
#include "base/fs.h"

namespace berth::registry {

namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !lower_alnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
  }
  return true;
}

std::string hex_of(const std::string& digest) {
  image::check_digest(digest);
  return digest.substr(7);
}

// Writes `data` to a temporary file in the link's directory and renames it over the link.
void publish(const std::string& path, std::string_view data) {
  std::string dir = path.substr(0, path.rfind('/'));
  mkdir_p(dir);
  std::string tmp = dir + "/.link-XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) throw_errno("registry storage: create " + tmp);
  try {
    write_all(fd.get(), data);
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) throw_errno("registry storage: publish " + path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

bool remove_file(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno != ENOENT) throw_errno("registry storage: remove " + path);
  return false;
}

// Names in `dir` that are links (not our temporaries); empty when it does not exist.
std::vector<std::string> links_in(const std::string& dir) {
  if (!path_exists(dir)) return {};
  std::vector<std::string> out;
  for (auto& n : list_dir(dir))
    if (!n.empty() && n[0] != '.') out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void find_repositories(const std::string& dir, const std::string& name,
                       std::vector<std::string>& out) {
  if (!name.empty() && (path_exists(dir + "/_layers") || path_exists(dir + "/_manifests")))
    out.push_back(name);
  for (auto& child : list_dir(dir)) {
    if (child.empty() || child[0] == '_' || child[0] == '.') continue;
    std::string sub = path_join(dir, child);
    if (is_dir(sub)) find_repositories(sub, name.empty() ? child : name + "/" + child, out);
  }
}

}  // namespace

bool valid_repository_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (auto& c : split(name, '/'))
    if (!valid_component(c)) return false;
  return true;
}

bool valid_tag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (size_t i = 0; i < tag.size(); ++i) {
    char c = tag[i];
    bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

Storage::Storage(std::string root) : root_(std::move(root)), blobs_(path_join(root_, "blobs")) {
  mkdir_p(path_join(root_, "repositories"));
  // Uploads that were under way when the registry was killed can never finish.
  blobs_.clear_temporary();
}

std::string Storage::repo_dir(const std::string& repo) const {
  return path_join(root_, "repositories/" + repo);
}

bool Storage::repository_exists(const std::string& repo) const {
  std::string dir = repo_dir(repo);
  return path_exists(dir + "/_layers") || path_exists(dir + "/_manifests");
}

std::vector<std::string> Storage::repositories() const {
  std::vector<std::string> out;
  find_repositories(path_join(root_, "repositories"), "", out);
  std::sort(out.begin(), out.end());
  return out;
}

bool Storage::blob_linked(const std::string& repo, const std::string& digest) const {
  return path_exists(repo_dir(repo) + "/_layers/" + hex_of(digest)) && blobs_.has(digest);
}

void Storage::link_blob(const std::string& repo, const std::string& digest) {
  publish(repo_dir(repo) + "/_layers/" + hex_of(digest), "");
}

bool Storage::unlink_blob(const std::string& repo, const std::string& digest) {
  return remove_file(repo_dir(repo) + "/_layers/" + hex_of(digest));
}

std::vector<std::string> Storage::linked_blobs(const std::string& repo) const {
  std::vector<std::string> out;
  for (auto& hex : links_in(repo_dir(repo) + "/_layers")) out.push_back("sha256:" + hex);
  return out;
}

std::optional<StoredManifest> Storage::resolve(const std::string& repo,
                                               const std::string& ref) const {
  std::string digest = ref;
  if (ref.find(':') == std::string::npos) {
    auto target = read_file_if_exists(repo_dir(repo) + "/_tags/" + ref);
    if (!target) return std::nullopt;
    digest = *target;
  }
  auto media_type = read_file_if_exists(repo_dir(repo) + "/_manifests/" + hex_of(digest));
  if (!media_type || !blobs_.has(digest)) return std::nullopt;
  return StoredManifest{digest, *media_type};
}

void Storage::put_manifest(const std::string& repo, const StoredManifest& m,
                           std::string_view body) {
  blobs_.put(body, m.digest);
  publish(repo_dir(repo) + "/_manifests/" + hex_of(m.digest), m.media_type);
}

void Storage::tag(const std::string& repo, const std::string& tag, const std::string& digest) {
  publish(repo_dir(repo) + "/_tags/" + tag, digest);
}

bool Storage::delete_manifest(const std::string& repo, const std::string& digest) {
  std::string dir = repo_dir(repo);
  std::string hex = hex_of(digest);
  if (!remove_file(dir + "/_manifests/" + hex)) return false;
  for (auto& t : links_in(dir + "/_tags"))
    if (read_file_if_exists(dir + "/_tags/" + t) == digest) remove_file(dir + "/_tags/" + t);
  for (auto& subject : links_in(dir + "/_referrers"))
    remove_file(dir + "/_referrers/" + subject + "/" + hex);
  return true;
}

bool Storage::delete_tag(const std::string& repo, const std::string& tag) {
  return remove_file(repo_dir(repo) + "/_tags/" + tag);
}

std::optional<std::vector<std::string>> Storage::tags(const std::string& repo) const {
  if (!repository_exists(repo)) return std::nullopt;
  return links_in(repo_dir(repo) + "/_tags");
}

std::vector<StoredManifest> Storage::manifests(const std::string& repo) const {
  std::vector<StoredManifest> out;
  std::string dir = repo_dir(repo) + "/_manifests/";
  for (auto& hex : links_in(dir)) {
    auto media_type = read_file_if_exists(dir + hex);
    if (media_type) out.push_back({"sha256:" + hex, *media_type});
  }
  return out;
}

void Storage::add_referrer(const std::string& repo, const std::string& subject,
                           const std::string& digest) {
  publish(repo_dir(repo) + "/_referrers/" + hex_of(subject) + "/" + hex_of(digest), "");
}

std::vector<std::string> Storage::referrers(const std::string& repo,
                                            const std::string& subject) const {
  std::vector<std::string> out;
  for (auto& hex : links_in(repo_dir(repo) + "/_referrers/" + hex_of(subject)))
    out.push_back("sha256:" + hex);
  return out;
}

}  // namespace berth::registry
