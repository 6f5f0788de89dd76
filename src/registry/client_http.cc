#include "registry/client_http.h"

#include <openssl/evp.h>

#include <cctype>
#include <exception>

namespace berth::registry::wire {
namespace {

struct Exchange {
  const HttpCall* call;
  CURL* curl;
  HttpResult result;
  std::exception_ptr error;  // thrown by a sink or a source, rethrown after curl returns
  uint64_t received = 0, sent = 0;
};

long status_now(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

size_t on_header(char* data, size_t size, size_t n, void* ctx) {
  auto* x = static_cast<Exchange*>(ctx);
  std::string_view line(data, size * n);
  // A new status line (after a redirect or a 100 Continue) starts a new set of headers.
  if (line.rfind("HTTP/", 0) == 0) {
    x->result.headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  x->result.headers[name] = std::string(value);
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* ctx) {
  auto* x = static_cast<Exchange*>(ctx);
  std::string_view piece(data, size * n);
  long code = status_now(x->curl);
  if (x->call->sink && code >= 200 && code < 300) {
    try {
      (*x->call->sink)(piece);
      x->received += piece.size();
      if (x->call->progress) (*x->call->progress)(x->received);
    } catch (...) {
      x->error = std::current_exception();
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    return piece.size();
  }
  // Error documents are small; anything beyond 1 MiB is not worth keeping.
  if (x->result.body.size() < (1u << 20)) x->result.body.append(piece);
  return piece.size();
}

size_t on_read(char* buf, size_t size, size_t n, void* ctx) {
  auto* x = static_cast<Exchange*>(ctx);
  try {
    size_t got = (*x->call->source)(buf, size * n);
    x->sent += got;
    if (x->call->progress && got) (*x->call->progress)(x->sent);
    return got;
  } catch (...) {
    x->error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

}  // namespace

CurlHandle new_curl() {
  CurlHandle h(curl_easy_init(), curl_easy_cleanup);
  if (!h) throw Error("curl_easy_init failed");
  return h;
}

HttpResult perform(CURL* c, const HttpCall& call) {
  curl_easy_reset(c);
  Exchange x{&call, c, {}, nullptr};
  char err[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  for (auto& h : call.headers) headers = curl_slist_append(headers, h.c_str());
  if (call.source && !call.body) headers = curl_slist_append(headers, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hold(headers, curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, call.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A registry that stops sending for a minute has hung.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
  if (call.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (call.body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  } else if (call.source) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &x);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  } else if (call.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (call.method == "PUT" || call.method == "POST") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    }
  }
  CURLcode rc = curl_easy_perform(c);
  if (x.error) std::rethrow_exception(x.error);
  if (rc != CURLE_OK)
    throw Unavailable(call.method + " " + call.url + ": " +
                      (err[0] ? std::string(err) : curl_easy_strerror(rc)));
  x.result.status = status_now(c);
  return std::move(x.result);
}

}  // namespace berth::registry::wire
