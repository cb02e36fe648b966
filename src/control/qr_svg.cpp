#include "control/qr_svg.hpp"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace onair::control {
namespace {

constexpr int kQuietZone = 4;

struct QrCodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

QrMatrix qr_encode(std::string_view text) {
  const std::string copy{text};  // libqrencode wants a NUL-terminated string
  std::unique_ptr<QRcode, QrCodeDeleter> code{
      QRcode_encodeData(static_cast<int>(copy.size()), reinterpret_cast<const unsigned char*>(copy.data()), 0, QR_ECLEVEL_M)};
  if (!code) {
    throw std::runtime_error("cannot encode " + std::to_string(text.size()) + " bytes as a QR code: " +
                             std::strerror(errno));
  }
  QrMatrix matrix;
  matrix.size = code->width;
  matrix.dark.resize(size_t(code->width) * size_t(code->width));
  for (size_t i = 0; i < matrix.dark.size(); ++i) matrix.dark[i] = (code->data[i] & 1) != 0;
  return matrix;
}

std::string qr_svg(const QrMatrix& matrix) {
  const int side = matrix.size + 2 * kQuietZone;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(side) + " " +
                    std::to_string(side) + "\" shape-rendering=\"crispEdges\">";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < matrix.size; ++y) {
    for (int x = 0; x < matrix.size; ++x) {
      if (!matrix.dark[size_t(y) * size_t(matrix.size) + size_t(x)]) continue;
      svg += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h1v1h-1z";
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace onair::control
