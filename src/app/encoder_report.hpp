// Private to app/: what onair says about the encoder it chose, in the same words wherever it is
// said: the log at start-up, stderr for `onair --print-encoder`, the API's refusal to change a
// bitrate that cannot change.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "program/program.hpp"
#include "program/select.hpp"

namespace onair::app {

// "va cannot change its bitrate while it runs (vah264enc's bitrate cannot change while it plays
// (GStreamer 1.22.0))"; only for an encoder whose `bitrate_fixed` is set.
std::string fixed_bitrate_sentence(const program::Choice& encoder);

// The warning for such an encoder: that sentence, the bitrate it stays at, and abr turned off.
std::string fixed_bitrate_note(const program::Choice& encoder, const config::EncoderConfig& config);

// One line each, "encoder: …": which encoder and why, and each one not available here and why.
std::vector<std::string> encoder_choice_lines(const program::Choice& encoder);

}  // namespace onair::app
