// Ctrl-C in `qwen3vl chat`: SIGINT only raises a flag, so an answer being
// generated stops at its next token and the conversation lives on (the
// default action would end the process and lose it).
#pragma once

namespace qwen3vl::cli {

// Installs the SIGINT handler (without SA_RESTART, so a blocked terminal read
// returns at once).
void catch_interrupts();
bool interrupt_requested();
void clear_interrupt();

}  // namespace qwen3vl::cli
