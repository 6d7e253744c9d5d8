/** ZMTP frame flags (23/ZMTP section "Framing"). */

export const FLAG_MORE = 0x01
export const FLAG_LONG = 0x02
export const FLAG_COMMAND = 0x04
/** 23/ZMTP: bits 3-7 are reserved and SHALL be zero. */
export const FLAG_RESERVED = 0xf8

/** A frame body no longer than this uses the 1-byte size form, as libzmq does. */
export const SHORT_FRAME_MAX = 255
