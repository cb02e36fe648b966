// QR codes as SVG (libqrencode), so the host can point a phone's camera app at the panel.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace onair::control {

// The dark/light modules of a QR code for `text` (byte mode, error correction M), row by row.
struct QrMatrix {
  int size = 0;              // modules per side
  std::vector<bool> dark;    // size * size
};
// Throws std::runtime_error when the text cannot be encoded (too long: over ~2300 bytes).
QrMatrix qr_encode(std::string_view text);

// A standalone SVG: one path of unit squares on a white square with the 4-module quiet zone
// scanners need. Scales crisply to any size.
std::string qr_svg(const QrMatrix& matrix);

}  // namespace onair::control
