// The encoder's report, and `onair --print-encoder`.
#include "app/encoder_report.hpp"

#include <iostream>

#include "app/app.hpp"

namespace onair::app {

std::string fixed_bitrate_sentence(const program::Choice& encoder) {
  return encoder.name + " cannot change its bitrate while it runs (" + encoder.bitrate_fixed + ")";
}

std::string fixed_bitrate_note(const program::Choice& encoder, const config::EncoderConfig& config) {
  return "encoder: " + fixed_bitrate_sentence(encoder) + ": it stays at " + std::to_string(config.bitrate_kbps) +
         " kbps" + (config.abr ? "; adaptive bitrate (encoder.abr) is off" : "");
}

std::vector<std::string> encoder_choice_lines(const program::Choice& encoder) {
  std::vector<std::string> lines{"encoder: " + encoder.name + " — " + encoder.note};
  for (const auto& u : encoder.unavailable) lines.push_back("encoder: not available here: " + u);
  return lines;
}

int print_encoder(const config::Config& config, const AppOptions& options) {
  const std::string pipelines = (options.data_dir.empty() ? find_data_dir() : options.data_dir) + "/pipelines";
  try {
    const program::ProbeFormat format{config.video.width, config.video.height, config.video.framerate};
    const program::Choice encoder = program::choose_encoder(pipelines, config.encoder.type, format);
    const program::ProgramOptions program = program::program_options(config, "none", pipelines);
    for (const std::string& line : encoder_choice_lines(encoder)) std::cerr << line << "\n";
    // (The log says this with the program pipeline, each time it is built.)
    std::cerr << "encoder: rate-control buffer " << program::encoder_buffer_text(encoder, program) << "\n";
    if (!encoder.bitrate_fixed.empty()) std::cerr << fixed_bitrate_note(encoder, config.encoder) << "\n";
    std::cout << program::render_program_encoder(encoder, program, config.encoder.bitrate_kbps) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "onair: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace onair::app
