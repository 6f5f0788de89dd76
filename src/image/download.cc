#include "image/download.h"

#include <curl/curl.h>

#include <memory>

#include "base/error.h"

namespace berth::image {
namespace {

struct Sink {
  BlobWriter* writer;
  std::string error;
};

size_t write_cb(char* data, size_t size, size_t n, void* ctx) {
  auto* s = static_cast<Sink*>(ctx);
  try {
    s->writer->write(std::string_view(data, size * n));
    return size * n;
  } catch (const std::exception& e) {
    s->error = e.what();
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
}

}  // namespace

std::string download_blob(ContentStore& content, const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw InvalidArgument("import: " + url + ": only http and https URLs can be imported");
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("import: curl_easy_init failed");
  auto w = content.writer();
  Sink sink{w.get(), ""};
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    std::string why = !sink.error.empty() ? sink.error : err[0] ? err : curl_easy_strerror(rc);
    throw InvalidArgument("import: download " + url + ": " + why);
  }
  return w->commit();
}

}  // namespace berth::image
