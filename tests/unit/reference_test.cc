// Cases from distribution/reference's own tests (reference_test.go, normalize_test.go),
// expected here after normalisation, as ParseNormalizedNamed gives them.
#include "oci/reference.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace berth::oci {
namespace {

const std::string kHex(64, 'f');
const std::string kDigest = "sha256:" + kHex;

std::string parse_error(const std::string& s) {
  try {
    parse_reference(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

struct Parsed {
  std::string input, domain, path, tag, digest;
};

TEST(Reference, ParsesAndNormalises) {
  const Parsed cases[] = {
      {"test_com", "docker.io", "library/test_com", "", ""},
      {"test.com:tag", "docker.io", "library/test.com", "tag", ""},
      {"test.com:5000", "docker.io", "library/test.com", "5000", ""},
      {"test.com/repo:tag", "test.com", "repo", "tag", ""},
      {"test:5000/repo", "test:5000", "repo", "", ""},
      {"test:5000/repo:tag", "test:5000", "repo", "tag", ""},
      {"test:5000/repo@" + kDigest, "test:5000", "repo", "", kDigest},
      {"test:5000/repo:tag@" + kDigest, "test:5000", "repo", "tag", kDigest},
      {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", ""},
      {repeat("a/", 127) + "a:tag-puts-this-over-max", "docker.io", repeat("a/", 127) + "a",
       "tag-puts-this-over-max", ""},
      {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "", ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
       "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", ""},
      {"xn--7o8h.com/myimage:xn--7o8h.com@" + kDigest, "xn--7o8h.com", "myimage", "xn--7o8h.com",
       kDigest},
      {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", ""},
      {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", ""},
      {"192.168.1.1", "docker.io", "library/192.168.1.1", "", ""},
      {"192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", ""},
      {"192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", ""},
      {"192.168.1.1/repo", "192.168.1.1", "repo", "", ""},
      {"192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "", ""},
      {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", ""},
      {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", ""},
      {"[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "", ""},
      {"[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", ""},
      {"[2001:db8::1]:5000/repo@" + kDigest, "[2001:db8::1]:5000", "repo", "", kDigest},
      {"[2001:db8::1]:5000/repo:tag@" + kDigest, "[2001:db8::1]:5000", "repo", "tag", kDigest},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "", ""},
      {"[::1]:5000/repo", "[::1]:5000", "repo", "", ""},
      {"example.com/" + std::string(255, 'a') + ":tag", "example.com", std::string(255, 'a'), "tag",
       ""},
      {"busybox", "docker.io", "library/busybox", "", ""},
      {"docker.io/busybox", "docker.io", "library/busybox", "", ""},
      {"index.docker.io/user/app:1.0", "docker.io", "user/app", "1.0", ""},
      {"localhost/app", "localhost", "app", "", ""},
      {"localhost:5000/app", "localhost:5000", "app", "", ""},
      // A first component with ':' is a domain even when it was meant as name:tag.
      {"busybox:1/x", "busybox:1", "x", "", ""},
      {"docker.io/" + kHex, "docker.io", "library/" + kHex, "", ""},
      {"dock__er/docker", "docker.io", "dock__er/docker", "", ""},
      {"docker---rules/docker", "docker.io", "docker---rules/docker", "", ""},
      {"a:" + std::string(128, 'x'), "docker.io", "library/a", std::string(128, 'x'), ""},
      // Registered in dockerd through crypto/tls.
      {"a@sha512:" + std::string(128, 'f'), "docker.io", "library/a", "",
       "sha512:" + std::string(128, 'f')},
  };
  for (const Parsed& c : cases) {
    SCOPED_TRACE(c.input);
    Reference ref = parse_reference(c.input);
    EXPECT_EQ(ref.domain, c.domain);
    EXPECT_EQ(ref.path, c.path);
    EXPECT_EQ(ref.tag, c.tag);
    EXPECT_EQ(ref.digest, c.digest);
  }
}

TEST(Reference, RejectsWithDockersMessages) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "invalid reference format"},
      {":justtag", "invalid reference format"},
      {"@" + kDigest, "invalid reference format"},
      {"busybox:", "invalid reference format"},
      {"a::b", "invalid reference format"},
      {"busybox:a:b", "invalid reference format"},
      {"busybox@", "invalid reference format"},
      {"busybox@sha256:abc", "invalid reference format"},
      {"busybox@@" + kDigest, "invalid reference format"},
      {"aa/asdf$$^/aa", "invalid reference format"},
      {"a:" + std::string(129, 'x'), "invalid reference format"},
      {"a:-tag", "invalid reference format"},
      {"[2001:db8::1]", "invalid reference format"},
      {"[2001:db8::1]:5000", "invalid reference format"},
      {"[2001:db8::1]:tag", "invalid reference format"},
      {"[fe80::1%eth0]:5000/repo", "invalid reference format"},
      {"[fe80::1%@invalidzone]:5000/repo", "invalid reference format"},
      {"[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid reference format"},
      {"fc00::1:5000/debian", "invalid reference format"},
      {"example.com:/repo", "invalid reference format"},
      {"https://github.com/docker/docker", "invalid reference format"},
      {"Uppercase:tag",
       "invalid reference format: repository name (library/Uppercase) must be lowercase"},
      {"UPPER:case", "invalid reference format: repository name (library/UPPER) must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag",
       "invalid reference format: repository name (Uppercase/lowercase) must be lowercase"},
      {"docker.io/docker/Docker",
       "invalid reference format: repository name (docker/Docker) must be lowercase"},
      // Docker cuts at the first ':', so an uppercase algorithm counts as part of the name.
      {"busybox@SHA256:" + kHex,
       "invalid reference format: repository name (library/busybox@SHA256) must be lowercase"},
      // "Foo_Bar" is taken for a domain (it has uppercase) but is none, so Parse's own check
      // fires.
      {"Foo_Bar/x", "repository name must be lowercase"},
      {kHex, "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings"},
      {"domain/" + std::string(256, 'a') + ":tag",
       "repository name must not be more than 255 characters"},
      {"repo@sha256:" + std::string(34, 'f'), "invalid checksum digest length"},
      {"repo@sha256:" + std::string(64, 'F'), "invalid checksum digest format"},
      {"validname@invaliddigest:" + kHex, "unsupported digest algorithm"},
      {"validname@md5.x:" + kHex, "unsupported digest algorithm"},
      {"validname@sha512:" + kHex, "invalid checksum digest length"},
  };
  for (const auto& [input, message] : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(parse_error(input), message);
  }
}

TEST(Reference, ValidNamesFromDocker) {
  const char* names[] = {
      "docker/docker",
      "library/debian",
      "debian",
      "localhost/library/debian",
      "localhost/debian",
      "LOCALDOMAIN/library/debian",
      "LOCALDOMAIN/debian",
      "docker.io/docker/docker",
      "docker.io/library/debian",
      "docker.io/debian",
      "index.docker.io/docker/docker",
      "index.docker.io/library/debian",
      "index.docker.io/debian",
      "127.0.0.1:5000/docker/docker",
      "127.0.0.1:5000/library/debian",
      "127.0.0.1:5000/debian",
      "192.168.0.1",
      "192.168.0.1:80",
      "192.168.0.1:8/debian",
      "192.168.0.2:25000/debian",
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "[fc00::1]:5000/docker",
      "[fc00::1]:5000/docker/docker",
      "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
      "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "Docker/docker",
      "DOCKER/docker",
      "docker-rules/docker",
      "doc/docker",
      "d/docker",
      "jess/t",
  };
  for (const char* name : names) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(parse_reference(name));
  }
}

TEST(Reference, InvalidNamesFromDocker) {
  const std::string names[] = {
      "docker/Docker",
      "-docker",
      "-docker/docker",
      "-docker.io/docker/docker",
      "docker///docker",
      "docker.io/docker///docker",
      "[fc00::1]",
      "[fc00::1]:5000",
      "docker-/docker",
      "-docker-/docker",
      "____/____",
      "_docker/_docker",
      "dock..er/docker",
      "dock_.er/docker",
      "dock-.er/docker",
      "dock___er/docker",
      "docker/",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" + repeat("x", 200) +
          "/docker",
  };
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    EXPECT_THROW(parse_reference(name), Error);
  }
}

struct Names {
  std::string path, familiar, full, ambiguous, domain;
};

// normalize_test.go's TestParseRepositoryInfo: each spelling gives the same names.
TEST(Reference, FamiliarAndFullNames) {
  const Names cases[] = {
      {"fooo", "localhost/fooo", "localhost/fooo", "", "localhost"},
      {"fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "", "localhost"},
      {"fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "", "LOCALDOMAIN"},
      {"fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "", "LOCALDOMAIN"},
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"},
      {"other/library", "other/library", "docker.io/other/library", "", "docker.io"},
      {"private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "",
       "127.0.0.1:8000"},
      {"privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "",
       "127.0.0.1:8000"},
      {"private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "",
       "example.com"},
      {"privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"},
      {"private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase",
       "", "example.com:8000"},
      {"privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "",
       "example.com:8000"},
      {"library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "index.docker.io/library/ubuntu-12.04-base", "docker.io"},
      {"library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"},
      {"library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"},
      {"store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"},
      {"bar", "Foo/bar", "Foo/bar", "", "Foo"},
      {"bar", "FOO/bar", "FOO/bar", "", "FOO"},
  };
  for (const Names& c : cases) {
    for (const std::string& input : {c.familiar, c.full, c.ambiguous}) {
      if (input.empty()) continue;
      SCOPED_TRACE(input);
      Reference ref = parse_reference(input);
      EXPECT_EQ(ref.path, c.path);
      EXPECT_EQ(ref.domain, c.domain);
      EXPECT_EQ(ref.familiar_name(), c.familiar);
      EXPECT_EQ(ref.name(), c.full);
      EXPECT_EQ(ref.string(), c.full);
    }
  }
}

TEST(Reference, TagAndDigestTogether) {
  const std::string short_ref =
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
  Reference ref = parse_reference(short_ref);
  EXPECT_EQ(ref.tag, "latest");
  EXPECT_EQ(ref.digest, "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa");
  EXPECT_EQ(ref.string(), "docker.io/library/" + short_ref);
  EXPECT_EQ(ref.familiar_string(), short_ref);
}

TEST(Reference, Strings) {
  Reference ref = parse_reference("busybox@" + kDigest);
  EXPECT_EQ(ref.string(), "docker.io/library/busybox@" + kDigest);
  EXPECT_EQ(ref.familiar_string(), "busybox@" + kDigest);
  ref = parse_reference("localhost:5000/app:1.0");
  EXPECT_EQ(ref.name(), "localhost:5000/app");
  EXPECT_EQ(ref.familiar_name(), "localhost:5000/app");
  EXPECT_EQ(ref.string(), "localhost:5000/app:1.0");
  EXPECT_EQ(ref.familiar_string(), "localhost:5000/app:1.0");
  EXPECT_EQ(parse_reference("user/app").familiar_string(), "user/app");
}

// "foo_bar.com" holds a '.' so Docker takes it for a domain, but it is not a valid one, so the
// grammar reads the whole string as a path and the reference has no domain at all.
TEST(Reference, FirstComponentThatIsNoDomainStaysInThePath) {
  Reference ref = parse_reference("foo_bar.com/x:1");
  EXPECT_EQ(ref.domain, "");
  EXPECT_EQ(ref.path, "foo_bar.com/x");
  EXPECT_EQ(ref.name(), "foo_bar.com/x");
  EXPECT_EQ(ref.familiar_string(), "foo_bar.com/x:1");
}

TEST(Reference, DefaultTag) {
  EXPECT_EQ(parse_reference("busybox").tag, "");
  EXPECT_EQ(parse_reference_with_default_tag("busybox").string(),
            "docker.io/library/busybox:latest");
  EXPECT_EQ(parse_reference_with_default_tag("busybox").familiar_string(), "busybox:latest");
  EXPECT_EQ(parse_reference_with_default_tag("busybox:1.36").tag, "1.36");
  Reference digested = parse_reference_with_default_tag("busybox@" + kDigest);
  EXPECT_EQ(digested.tag, "");
  EXPECT_EQ(digested.string(), "docker.io/library/busybox@" + kDigest);
  EXPECT_THROW(parse_reference_with_default_tag("UPPER"), Error);
}

TEST(Reference, LooksLikeFullId) {
  EXPECT_TRUE(looks_like_full_id(kHex));
  EXPECT_TRUE(looks_like_full_id(kDigest));
  EXPECT_TRUE(
      looks_like_full_id("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"));
  EXPECT_FALSE(looks_like_full_id(std::string(63, 'f')));
  EXPECT_FALSE(looks_like_full_id(std::string(65, 'f')));
  EXPECT_FALSE(looks_like_full_id(std::string(64, 'F')));
  EXPECT_FALSE(looks_like_full_id(std::string(64, 'g')));
  EXPECT_FALSE(looks_like_full_id("sha512:" + kHex));
  EXPECT_FALSE(looks_like_full_id("sha256:"));
  EXPECT_FALSE(looks_like_full_id("busybox"));
  EXPECT_FALSE(looks_like_full_id(""));
}

TEST(Reference, CheckTag) {
  const std::string valid[] = {"latest", "1.36.1", "_x", "V1", "a-b_c.d", std::string(128, 'x')};
  for (const std::string& tag : valid) EXPECT_NO_THROW(check_tag(tag)) << tag;
  const std::string invalid[] = {
      "", "-foo", ".foo", "a:b", "a/b", "a@b", "a b", "é", std::string(129, 'x')};
  for (const std::string& tag : invalid) {
    try {
      check_tag(tag);
      ADD_FAILURE() << "accepted " << tag;
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "invalid tag format");
    }
  }
}

}  // namespace
}  // namespace berth::oci
