/** LINKTYPE_* values the decoder knows (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_12: 12,   // DLT_RAW on some BSDs
  RAW_14: 14,   // DLT_RAW on OpenBSD
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
