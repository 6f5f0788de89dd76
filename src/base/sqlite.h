// SQLite in WAL mode: one connection shared under a mutex, prepared statements, and
// transactions that roll back unless committed.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace berth {

class Db {
 public:
  // Opens (creating) the database and applies `schema` (idempotent CREATE ... IF NOT EXISTS).
  Db(const std::string& path, const std::string& schema);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);
  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }
  // Serialises writers that read-modify-write across several statements.
  std::recursive_mutex& mutex() { return mu_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::recursive_mutex mu_;
};

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view v);
  Statement& bind(int index, int64_t v);
  Statement& bind_null(int index);
  // Returns true while there is a row; false when done. Throws on error.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  std::string text(int column) const;
  int64_t integer(int column) const;
  bool is_null(int column) const;
  void reset();

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  std::lock_guard<std::recursive_mutex> lock_;
  bool done_ = false;
};

}  // namespace berth
