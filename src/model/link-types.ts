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
  PPP: 9,        // PPP, with or without HDLC-like framing
  PPP_HDLC: 50,  // PPP in HDLC-like framing, or Cisco PPP
  PPP_ETHER: 51, // PPPoE without the Ethernet header
  C_HDLC: 104,   // Cisco HDLC
  ARCNET_BSD: 7,       // ARCNET as the BSDs capture it (RFC 1051/1201 header, no offset)
  ARCNET_LINUX: 129,   // ARCNET as Linux captures it (with the 2-byte offset field)
  IPOIB: 242,          // IP over InfiniBand
} as const;

const LINK_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL', 1: 'Ethernet', 12: 'RAW', 14: 'RAW', 101: 'RAW', 108: 'LOOP', 113: 'Linux SLL', 228: 'IPv4', 229: 'IPv6', 276: 'Linux SLL2',
  9: 'PPP', 50: 'PPP HDLC', 51: 'PPPoE', 104: 'Cisco HDLC', 7: 'ARCNET', 129: 'Linux ARCNET', 242: 'IPoIB',
};

/** A link type's short name ('Ethernet', 'Linux SLL'…), or null when the decoder does not know it. */
export const linkTypeName = (linkType: number): string | null => LINK_NAMES[linkType] ?? null;
