#include "engine/names.h"

#include <sys/random.h>

#include <array>
#include <cctype>

#include "base/error.h"

namespace berth::engine {
namespace {

// A short list in the spirit of Docker's: enough that collisions are rare, and a collision
// only means another draw.
constexpr std::array kAdjectives = {
    "admiring",    "adoring",    "agitated",   "amazing",    "angry",
    "awesome",     "blissful",   "bold",       "boring",     "brave",
    "busy",        "charming",   "clever",     "cool",       "compassionate",
    "competent",   "confident",  "cranky",     "crazy",      "dazzling",
    "determined",  "distracted", "dreamy",     "eager",      "ecstatic",
    "elastic",     "elated",     "elegant",    "eloquent",   "epic",
    "fervent",     "festive",    "flamboyant", "focused",    "friendly",
    "frosty",      "gallant",    "gifted",     "goofy",      "gracious",
    "happy",       "hardcore",   "heuristic",  "hopeful",    "hungry",
    "infallible",  "inspiring",  "jolly",      "jovial",     "keen",
    "kind",        "laughing",   "loving",     "lucid",      "magical",
    "modest",      "musing",     "mystifying", "naughty",    "nervous",
    "nice",        "nifty",      "nostalgic",  "objective",  "optimistic",
    "peaceful",    "pedantic",   "pensive",    "practical",  "priceless",
    "quirky",      "quizzical",  "relaxed",    "reverent",   "romantic",
    "sad",         "serene",     "sharp",      "silly",      "sleepy",
    "stoic",       "strange",    "stupefied",  "suspicious", "sweet",
    "tender",      "thirsty",    "trusting",   "unruffled",  "upbeat",
    "vibrant",     "vigilant",   "vigorous",   "wizardly",   "wonderful",
    "xenodochial", "youthful",   "zealous",    "zen"};
constexpr std::array kSurnames = {
    "albattani",  "allen",        "almeida",      "archimedes", "ardinghelli",   "babbage",
    "banach",     "bardeen",      "bartik",       "bassi",      "bell",          "benz",
    "bhabha",     "bohr",         "booth",        "borg",       "bose",          "brahmagupta",
    "brattain",   "brown",        "carson",       "cerf",       "chandrasekhar", "chatelet",
    "clarke",     "colden",       "cori",         "cray",       "curie",         "darwin",
    "davinci",    "dijkstra",     "dubinsky",     "easley",     "edison",        "einstein",
    "elion",      "engelbart",    "euclid",       "euler",      "faraday",       "fermat",
    "fermi",      "feynman",      "franklin",     "galileo",    "gates",         "goldberg",
    "goldstine",  "goodall",      "hamilton",     "hawking",    "heisenberg",    "hertz",
    "hodgkin",    "hoover",       "hopper",       "hugle",      "hypatia",       "jackson",
    "jennings",   "jepsen",       "joliot",       "jones",      "kalam",         "keller",
    "kepler",     "khorana",      "kilby",        "knuth",      "lamarr",        "lamport",
    "leakey",     "leavitt",      "lovelace",     "lumiere",    "mayer",         "mccarthy",
    "mcclintock", "meitner",      "mendel",       "mirzakhani", "montalcini",    "morse",
    "napier",     "nash",         "neumann",      "newton",     "nobel",         "noether",
    "noyce",      "pascal",       "pasteur",      "payne",      "perlman",       "pike",
    "poincare",   "ptolemy",      "raman",        "ramanujan",  "ride",          "ritchie",
    "rosalind",   "sammet",       "shannon",      "shaw",       "shockley",      "sinoussi",
    "snyder",     "stonebraker",  "swanson",      "tesla",      "thompson",      "torvalds",
    "turing",     "varahamihira", "visvesvaraya", "wescoff",    "wiles",         "williams",
    "wilson",     "wing",         "wozniak",      "wright",     "yalow",         "yonath"};

uint64_t random_u64() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) throw_errno("getrandom");
  return v;
}

}  // namespace

std::string random_name() {
  uint64_t r = random_u64();
  return std::string(kAdjectives[r % kAdjectives.size()]) + "_" +
         kSurnames[(r / kAdjectives.size()) % kSurnames.size()];
}

std::string random_id() {
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 4; i++) {
    uint64_t v = random_u64();
    for (int j = 0; j < 16; j++, v >>= 4) id.push_back(kHex[v & 0xf]);
  }
  return id;
}

void check_container_name(const std::string& name) {
  bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
      ok = false;
  if (!ok)
    throw InvalidArgument("Invalid container name (" + name +
                          "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

}  // namespace berth::engine
