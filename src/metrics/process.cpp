#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "metrics/metrics.hpp"

namespace onair::metrics {

double process_cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return double(resident) * double(sysconf(_SC_PAGESIZE));
}

double cpu_temperature_celsius() {
  // The first thermal zone is the CPU package on the mini-PCs onair targets.
  for (int zone = 0; zone < 8; ++zone) {
    std::ifstream type("/sys/class/thermal/thermal_zone" + std::to_string(zone) + "/type");
    std::ifstream temp("/sys/class/thermal/thermal_zone" + std::to_string(zone) + "/temp");
    std::string name;
    long milli = 0;
    if (!(type >> name) || !(temp >> milli)) continue;
    if (name.find("pkg") != std::string::npos || name.find("cpu") != std::string::npos ||
        name.find("soc") != std::string::npos || name.find("acpitz") != std::string::npos)
      return double(milli) / 1000.0;
  }
  return -274;
}

}  // namespace onair::metrics
