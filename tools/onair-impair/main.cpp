// onair-impair: a UDP impairment relay for testing SRT links on loopback (this kernel has no
// netem). Loss, burst loss, delay, jitter, a bandwidth cap and blackouts, set on the command
// line, by a timed schedule, or live through a control socket.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "relay.hpp"

namespace {

using namespace onair::impair;

constexpr const char* kUsage = R"(usage: onair-impair --target [HOST:]PORT [options] [key=value ...]

Relays UDP between a sender and a loopback target through an impaired link:
  sender → 127.0.0.1:LISTEN → [loss, cap, delay, jitter, blackout] → HOST:PORT (loopback only)
and the answers back (loss, delay, jitter and blackouts apply both ways; the cap upstream only).

options:
  --listen PORT        port to listen on, on 127.0.0.1 (default 0: any free port)
  --control PORT       control socket on 127.0.0.1 (default 0: any free port)
  --schedule TEXT      timed changes from the start: "T k=v k=v; T k=v", T in seconds
  --schedule-file F    the same from a file (steps on lines or separated by ';', # comments)
  --duration S         exit after S seconds (default: run until SIGINT/SIGTERM)
  --seed N             random seed (default 1): the same seed gives the same losses
settings (key=value, also in schedules and "set" commands):
  loss=PCT             drop each packet with this probability
  burst=PCT            chance per packet that a loss burst starts; burst_len=N its mean length
  delay=MS             one-way delay;  jitter=MS  extra delay, uniform 0..MS per packet
  order=0|1            0 (default): jittered packets may overtake each other, as with netem
  rate=KBPS            upstream bandwidth cap (IP bytes; 0 = none); queue=MS what it may queue
  blackout=MS          drop everything, both ways, for MS from now
  clear                all impairments off
The first line printed is "listen=127.0.0.1:P target=H:P control=127.0.0.1:P"; each change
prints "t=S settings"; the last line is "final {json counters}". Control commands (one UDP
datagram each, answered): "set k=v ...", "blackout MS", "schedule T k=v; ...", "stats".
)";

bool parse_port(const std::string& text, uint16_t* port) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

// [HOST:]PORT where HOST is localhost or an IPv4 address in 127.0.0.0/8.
std::string parse_target(const std::string& text, RelayOptions* options) {
  const auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  if (!parse_port(port, &options->target_port) || options->target_port == 0)
    return "--target " + text + ": expected [HOST:]PORT with PORT 1..65535";
  if (inet_pton(AF_INET, host.c_str(), &options->target) != 1)
    return "--target " + text + ": \"" + host + "\" is not an IPv4 address (use 127.0.0.1)";
  if ((ntohl(options->target.s_addr) >> 24) != 127)
    return "--target " + text + ": only loopback targets (127.0.0.0/8) are allowed: this tool impairs test links";
  return "";
}

std::string read_text(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "--schedule-file " + path + ": cannot read it: " + std::strerror(errno);
    return "";
  }
  std::string text;
  for (std::string line; std::getline(in, line);) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    text += line + ";";
  }
  return text;
}

std::string parse_args(const std::vector<std::string>& args, RelayOptions* options) {
  std::vector<std::string> words;
  bool have_target = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (arg == "--listen" || arg == "--control") {
      if (!value(&v) || !parse_port(v, arg == "--listen" ? &options->listen_port : &options->control_port))
        return arg + ": expected a port 0..65535";
    } else if (arg == "--target") {
      if (!value(&v)) return "--target: expected [HOST:]PORT";
      if (std::string e = parse_target(v, options); !e.empty()) return e;
      have_target = true;
    } else if (arg == "--schedule" || arg == "--schedule-file") {
      if (!value(&v)) return arg + ": expected a schedule";
      std::string error;
      const std::string text = arg == "--schedule" ? v : read_text(v, &error);
      if (!error.empty()) return error;
      auto steps = parse_schedule(text, &error);
      if (!steps) return arg + ": " + error;
      options->schedule = std::move(*steps);
    } else if (arg == "--duration" || arg == "--seed") {
      double number = 0;
      if (!value(&v) || std::from_chars(v.data(), v.data() + v.size(), number).ec != std::errc() || number < 0)
        return arg + ": expected a non-negative number";
      if (arg == "--duration") options->duration_s = number;
      else options->seed = static_cast<uint64_t>(number);
    } else if (arg.find('=') != std::string::npos || arg == "clear") {
      words.push_back(arg);
    } else {
      return "unknown argument \"" + arg + "\"";
    }
  }
  if (!have_target) return "--target is required";
  if (std::string e = apply_words(words, options->initial, 0); !e.empty()) return e;
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(args.empty() ? stderr : stdout, "{}", kUsage);
    return args.empty() ? 2 : 0;
  }
  RelayOptions options;
  if (std::string error = parse_args(args, &options); !error.empty()) {
    fmt::print(stderr, "onair-impair: {}\n(onair-impair --help for usage)\n", error);
    return 2;
  }
  return run_relay(options);
}
