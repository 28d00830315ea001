/* counters: one counter per event and per drop reason of a device. Every
 * drop in the data path raises exactly one of these; they are read by
 * `egressctl stats` and become metrics. Single writer (the device's loop). */
#ifndef EGRESS_WG_COUNTERS_H
#define EGRESS_WG_COUNTERS_H

#include <stdint.h>

#define WG_COUNTERS(X)							\
	X(rx_packets)		X(rx_bytes)				\
	X(tx_packets)		X(tx_bytes)				\
	X(handshake_initiation_rx) X(handshake_initiation_tx)		\
	X(handshake_response_rx)   X(handshake_response_tx)		\
	X(cookie_reply_rx)	X(cookie_reply_tx)			\
	X(keepalive_rx)		X(keepalive_tx)				\
	X(sessions_established)	X(under_load_episodes)			\
	/* drops of what arrived from the underlay */			\
	X(rx_drop_too_short)	X(rx_drop_too_long)			\
	X(rx_drop_bad_type)	X(rx_drop_bad_mac1)			\
	X(rx_drop_ratelimited)	X(rx_drop_handshake_invalid)		\
	X(rx_drop_handshake_queue_full) X(rx_drop_cookie_invalid)	\
	X(rx_drop_unknown_index) X(rx_drop_decrypt_failed)		\
	X(rx_drop_replay)	X(rx_drop_key_expired)			\
	X(rx_drop_bad_inner_packet) X(rx_drop_allowedips_mismatch)	\
	X(rx_drop_no_identity)	X(rx_drop_tun_write)			\
	/* drops of what arrived from the TUN interface */		\
	X(tx_drop_no_peer)	X(tx_drop_no_endpoint)			\
	X(tx_drop_bad_packet)	X(tx_drop_staged_full)			\
	X(tx_drop_send_error)	X(tx_drop_no_buffer)			\
	X(tx_drop_handshake_gave_up)

enum wg_counter {
#define WG_COUNTER_ENUM(name) WG_CTR_##name,
	WG_COUNTERS(WG_COUNTER_ENUM)
#undef WG_COUNTER_ENUM
	WG_CTR__MAX
};

extern const char *const wg_counter_names[WG_CTR__MAX];

#endif
