/* SPDX-License-Identifier: MIT */
/*
 * dhcp.ddns-registration (intrusive, opt-in): takes a real lease with a test
 * client FQDN in option 81 and watches DNS for the A and PTR records the DHCP
 * server should register for it, as it would for an AMT device (AMT asks the
 * DHCP server to update DNS; its own DDNS client is off by default). Then it
 * releases the lease and checks that the records are removed again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "dhcp/codec.h"
#include "dnscheck.h"
#include "net/dhcp.h"
#include "net/dns.h"

#define MAX_DNS_SERVERS 4
/* Time kept back from the deadline for the release and the cleanup look. */
#define RESERVE_MS 2500u
#define POLL_MS 250u
#define DNS_QUERY_MS 1000u
/* When the ACK's option 81 already says N=1 (no updates), a short look confirms it. */
#define NO_UPDATE_WAIT_MS 2000u

static const struct apf_code codes[] = {
	{"DDNS_INTERFACE_MISSING", APF_ERROR, "The interface named in [dhcp] interface does not exist on this host",
	 "Set [dhcp] interface to the wired interface on the AMT client segment (see `ip link`)"},
	{"DDNS_NO_PRIVILEGE", APF_ERROR, "Could not bind UDP port 68 on the interface: not allowed",
	 "Run as root, or grant the binary CAP_NET_BIND_SERVICE,CAP_NET_RAW "
	 "(setcap cap_net_bind_service,cap_net_raw+ep amt-preflight)"},
	{"DDNS_SOCKET_ERROR", APF_ERROR, "Could not open, bind or send on the DHCP client socket",
	 "Stop any DHCP client that holds port 68 exclusively on this host, then run again"},
	{"DDNS_NO_OFFER", APF_ERROR, "No DHCP server offered a lease within the listen window",
	 "Check that a DHCP server serves this segment with free addresses; raise [dhcp] listen_seconds"},
	{"DDNS_NO_ACK", APF_ERROR, "The DHCP server offered a lease but did not acknowledge the request",
	 "Look for the test client (MAC 02:61:70:66:xx:xx) in the DHCP server's log"},
	{"DDNS_LEASE_REFUSED", APF_ERROR, "The DHCP server answered the request with DHCPNAK",
	 "Look for the test client (MAC 02:61:70:66:xx:xx) in the DHCP server's log"},
	{"DDNS_NO_DNS_SERVER", APF_ERROR, "No DNS server to look the records up on: [dns] servers is empty and DHCP gave "
	 "no option 6",
	 "Set [dns] servers to the DNS servers of the AMT domain"},
	{"DDNS_DNS_ERROR", APF_ERROR, "No DNS server answered the lookups for the test records",
	 "Check that the DNS servers in [dns] servers (or option 6) answer queries from this host"},
	{"DDNS_REGISTERED", APF_PASS, "The DHCP server registered the test client's A and PTR records", "None"},
	{"DDNS_PTR_MISSING", APF_WARN,
	 "The A record appeared but no PTR record: the provisioning server's reverse lookup of AMT devices fails",
	 "Enable reverse updates on the DHCP server (Kea: a reverse-ddns domain for the subnet; Windows: "
	 "'Dynamically update DNS A and PTR records') and make the reverse zone accept them"},
	{"DDNS_A_MISMATCH", APF_FAIL,
	 "The test name resolves, but not to the leased address: the DHCP server did not replace the record",
	 "Remove the stale record; check DHCID/ownership conflicts (the DHCP server may not own the name)"},
	{"DDNS_NOT_REGISTERED", APF_FAIL,
	 "The DHCP server did not register the option-81 name in DNS: AMT devices will not be found by name",
	 "Enable DNS updates for option-81 clients on the DHCP server (Kea: dhcp-ddns enable-updates, "
	 "ddns-send-updates and a kea-dhcp-ddns forward domain; Windows: DNS tab of the scope) and let the zone "
	 "accept its updates"},
	{"DDNS_RELEASE_FAILED", APF_ERROR, "Could not send DHCPRELEASE for the test lease",
	 "None needed: the test lease expires by itself; remove it from the DHCP server to free the address now"},
	{"DDNS_CLEANED_UP", APF_PASS, "After DHCPRELEASE the DHCP server removed the test records", "None"},
	{"DDNS_CLEANUP_INCOMPLETE", APF_WARN,
	 "The test records were still in DNS after DHCPRELEASE: stale records pile up and can block a later "
	 "registration of the same name",
	 "Delete the test records by hand; enable DNS removal on lease release/expiry on the DHCP server"},
	{0},
};

struct dns_state {
	bool a_ok, a_other, ptr_ok, answered;
	char a_seen[64];   /* an A value seen that is not ours */
	char ptr_seen[256];
	char server[80];   /* who answered last (as configured: "IP" or "IP#port") */
	char error[256];
};

static const char *ip_str(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = a};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN) ? buf : "?";
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* "name." and "NAME" are the same name. */
static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * The DNS servers to watch: those AMT clients use (src/dnscheck.c: [dns]
 * servers, else dhcp.options' option 6), else the option 6 of the test lease.
 */
static void dns_init(struct apf_ctx *ctx, const struct apf_dhcp_msg *ack, struct apf_dnscheck_resolver *r)
{
	char addrs[MAX_DNS_SERVERS][INET_ADDRSTRLEN];
	const char *lease[MAX_DNS_SERVERS + 1] = {0};
	size_t n = 0, len;
	const uint8_t *p = ack ? apf_dhcp_opt_get(ack, APF_DHCP_OPT_DNS_SERVERS, &len) : NULL;

	for (size_t i = 0; p && i + 4 <= len && n < MAX_DNS_SERVERS; i += 4) {
		uint32_t a;

		memcpy(&a, p + i, 4);
		lease[n] = ip_str(a, addrs[n]);
		n++;
	}
	apf_dnscheck_resolver_init(r, ctx, n ? lease : NULL, "option 6 of the test lease");
}

/* One query, asking each server in turn until one answers. 0 with *ans, or the -errno of apf_dnscheck_ask(). */
static int query_any(struct apf_ctx *ctx, struct apf_dnscheck_resolver *r, const char *name, uint16_t type,
		     struct apf_dns_answer **ans, struct dns_state *st)
{
	const struct apf_dns_target *from = NULL;
	char *err = NULL;
	int rc = apf_dnscheck_ask(r, apf_ctx_deadline_ms(ctx), DNS_QUERY_MS, name, type, ans, &from, &err);

	if (rc == 0) {
		st->answered = true;
		snprintf(st->server, sizeof(st->server), "%s", from->spec);
	} else {
		snprintf(st->error, sizeof(st->error), "%s", err ? err : strerror(-rc));
	}
	free(err);
	return rc;
}

/* Looks up the A and PTR records once and updates `st`. */
static void look(struct apf_ctx *ctx, struct apf_dnscheck_resolver *r, const char *name, const char *ip,
		 const char *rev, struct dns_state *st)
{
	struct apf_dns_answer *ans = NULL;

	st->a_ok = st->a_other = st->ptr_ok = false;
	st->a_seen[0] = st->ptr_seen[0] = '\0';
	if (query_any(ctx, r, name, APF_RR_A, &ans, st) == 0) {
		for (size_t i = 0; i < ans->n_rr; i++) {
			if (ans->rr[i].type != APF_RR_A)
				continue;
			if (strcmp(ans->rr[i].data, ip) == 0) {
				st->a_ok = true;
			} else {
				st->a_other = true;
				snprintf(st->a_seen, sizeof(st->a_seen), "%s", ans->rr[i].data);
			}
		}
	}
	apf_dns_answer_free(ans);
	ans = NULL;
	if (rev && query_any(ctx, r, rev, APF_RR_PTR, &ans, st) == 0) {
		for (size_t i = 0; i < ans->n_rr; i++) {
			if (ans->rr[i].type != APF_RR_PTR)
				continue;
			snprintf(st->ptr_seen, sizeof(st->ptr_seen), "%s", ans->rr[i].data);
			if (name_eq(ans->rr[i].data, name))
				st->ptr_ok = true;
		}
	}
	apf_dns_answer_free(ans);
}

/* Sends one request and waits for the first reply of a wanted type (from `server` when non-zero). */
static int exchange(struct apf_dhcp_sock *s, const struct apf_dhcp_req *req, uint32_t dst, uint32_t server,
		    uint64_t until, struct apf_dhcp_msg **out)
{
	uint8_t pkt[APF_DHCP_ENCODE_MAX];
	size_t len;
	int rc;

	*out = NULL;
	rc = apf_dhcp_encode(req, pkt, sizeof(pkt), &len);
	if (rc)
		return rc;
	rc = apf_dhcp_send(s, pkt, len, dst);
	if (rc)
		return rc;
	for (;;) {
		struct apf_dhcp_msg *m = NULL;
		bool want = false;

		rc = apf_dhcp_recv(s, req->xid, until, &m);
		if (rc)
			return rc;
		if (req->type == APF_DHCP_DISCOVER)
			want = m->type == APF_DHCP_OFFER;
		else
			want = (m->type == APF_DHCP_ACK || m->type == APF_DHCP_NAK) &&
			       (!server || apf_dhcp_server_id(m) == server);
		if (want) {
			*out = m;
			return 0;
		}
		apf_dhcp_msg_free(m);
	}
}

static void fqdn_evidence(struct apf_finding *f, const struct apf_dhcp_msg *ack)
{
	struct apf_dhcp_fqdn fq;
	char flags[32];
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(ack, APF_DHCP_OPT_CLIENT_FQDN, &len);

	if (!p) {
		apf_evidence(f, "ack_option_81", "absent");
		return;
	}
	if (apf_dhcp_fqdn_decode(p, len, &fq) != 0) {
		apf_evidence(f, "ack_option_81", "malformed (%zu bytes)", len);
		return;
	}
	apf_evidence(f, "ack_option_81", "flags 0x%02x (%s), name %s%s", fq.flags,
		     apf_dhcp_fqdn_flags_str(fq.flags, flags, sizeof(flags)), fq.name, fq.fully_qualified ? "." : "");
}

/* True when the server's option 81 says it will not update DNS at all (N=1). */
static bool ack_says_no_update(const struct apf_dhcp_msg *ack)
{
	struct apf_dhcp_fqdn fq;
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(ack, APF_DHCP_OPT_CLIENT_FQDN, &len);

	return p && apf_dhcp_fqdn_decode(p, len, &fq) == 0 && (fq.flags & APF_FQDN_N);
}

static void lease_evidence(struct apf_finding *f, const char *ifname, const uint8_t *mac, uint32_t server,
			   uint32_t yiaddr)
{
	char a[INET_ADDRSTRLEN];

	apf_evidence(f, "interface", "%s", ifname);
	apf_evidence(f, "client_mac", "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (server)
		apf_evidence(f, "dhcp_server", "%s", ip_str(server, a));
	if (yiaddr)
		apf_evidence(f, "leased_address", "%s", ip_str(yiaddr, a));
}

/* Gives the test lease back: unicast to the server as RFC 2131 asks, broadcast if that cannot be routed. */
static void release(struct apf_ctx *ctx, struct apf_dhcp_sock *s, const struct apf_dhcp_req *base, uint32_t server,
		    uint32_t yiaddr, const char *ifname)
{
	struct apf_dhcp_req r = *base;
	uint8_t pkt[APF_DHCP_ENCODE_MAX];
	size_t len;
	int rc;

	r.type = APF_DHCP_RELEASE;
	r.xid = apf_dhcp_random_xid();
	r.ciaddr = yiaddr;
	r.requested_ip = 0;
	r.server_id = server;
	r.broadcast = false;
	r.fqdn = NULL;
	r.hostname = NULL;
	r.prl = NULL;
	r.n_prl = 0;
	apf_ctx_step(ctx, "DHCPRELEASE of the test lease");
	rc = apf_dhcp_encode(&r, pkt, sizeof(pkt), &len);
	if (rc == 0 && apf_dhcp_send(s, pkt, len, server) != 0)
		rc = apf_dhcp_send(s, pkt, len, INADDR_BROADCAST);
	if (rc) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, "DDNS_RELEASE_FAILED",
						   "Could not release the test lease; it stays until it expires");
		lease_evidence(f, ifname, r.chaddr, server, yiaddr);
		apf_evidence(f, "error", "%s", strerror(-rc));
	}
}

/* After the release: are the records gone (Kea's D2 and Windows remove them)? */
static void watch_cleanup(struct apf_ctx *ctx, struct apf_dnscheck_resolver *dns, const char *name,
			  const char *ip, const char *rev, unsigned int wait_ms, const char *ifname, const uint8_t *mac,
			  uint32_t server, uint32_t yiaddr)
{
	struct dns_state st = {0};
	unsigned int left = apf_ctx_remaining_ms(ctx);
	uint64_t t0 = apf_now_ms(), until;
	struct apf_finding *f;

	left = left > 300 ? left - 300 : 0;
	until = t0 + (wait_ms < left ? wait_ms : left);
	apf_ctx_step(ctx, "waiting for %s to be removed after the release", name);
	for (;;) {
		look(ctx, dns, name, ip, rev, &st);
		if ((st.answered && !st.a_ok && !st.ptr_ok) || apf_now_ms() + POLL_MS >= until)
			break;
		sleep_ms(POLL_MS);
	}
	if (st.answered && !st.a_ok && !st.ptr_ok) {
		f = apf_report(ctx, APF_PASS, "DDNS_CLEANED_UP", "After DHCPRELEASE the records of %s were removed", name);
	} else {
		f = apf_report(ctx, APF_WARN, "DDNS_CLEANUP_INCOMPLETE",
			       "%s still had %s%s%s in DNS %llu ms after DHCPRELEASE", name, st.a_ok ? "its A record" : "",
			       st.a_ok && st.ptr_ok ? " and " : "", st.ptr_ok ? "its PTR record" : "",
			       (unsigned long long)(apf_now_ms() - t0));
		if (!st.answered)
			apf_evidence(f, "error", "%s", st.error);
	}
	lease_evidence(f, ifname, mac, server, yiaddr);
	apf_evidence(f, "dns_server", "%s", st.server);
	apf_evidence(f, "a_answer", "%s", st.a_ok ? ip : "none");
	apf_evidence(f, "ptr_answer", "%s", st.ptr_ok ? name : "none");
	apf_evidence(f, "waited_ms", "%llu", (unsigned long long)(apf_now_ms() - t0));
}

static int run(struct apf_ctx *ctx)
{
	static const uint8_t prl[] = {APF_DHCP_OPT_SUBNET_MASK, APF_DHCP_OPT_ROUTER, APF_DHCP_OPT_DNS_SERVERS,
				      APF_DHCP_OPT_DOMAIN_NAME};
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *ifname = cfg->dhcp.interfaces.v[0]; /* the first segment takes the test lease */
	const char *fqdn = cfg->dhcp.test_fqdn;
	char hostname[64], name[APF_DHCP_NAME_MAX], ip[INET_ADDRSTRLEN], *err = NULL, *rev = NULL;
	struct apf_dhcp_msg *offer = NULL, *ack = NULL;
	struct apf_dhcp_sock *s = NULL;
	struct apf_dhcp_ifinfo ifi;
	struct apf_dhcp_req req = {0};
	struct apf_dnscheck_resolver dns = {0};
	struct dns_state st = {0};
	uint32_t server = 0, yiaddr = 0;
	unsigned int listen_ms = (unsigned int)(cfg->dhcp.listen_seconds > 0 ? cfg->dhcp.listen_seconds : 3) * 1000u;
	unsigned int wait_ms = (unsigned int)(cfg->dhcp.register_wait_seconds > 0 ? cfg->dhcp.register_wait_seconds : 15) *
			       1000u;
	uint64_t t0, until;
	bool lease_held = false, was_registered = false;
	struct apf_finding *f;
	int rc;

	rc = apf_dhcp_ifinfo(ifname, &ifi);
	if (rc == -ENODEV || rc == 0)
		rc = apf_dhcp_open(ifname, &s, &err);
	if (rc) {
		const char *code = rc == -ENODEV   ? "DDNS_INTERFACE_MISSING"
				   : rc == -EACCES ? "DDNS_NO_PRIVILEGE"
						   : "DDNS_SOCKET_ERROR";
		f = apf_report(ctx, APF_ERROR, code, rc == -ENODEV ? "Interface %s does not exist on this host"
								   : "Could not open a DHCP client socket on %s",
			       ifname);
		apf_evidence(f, "interface", "%s", ifname);
		if (rc != -ENODEV)
			apf_evidence(f, "error", "%s", err ? err : strerror(-rc));
		rc = 0;
		goto out;
	}

	/* The test MAC (02:61:70:66:xx:xx) goes in chaddr and client-id so the lease is easy to spot. */
	req.xid = apf_dhcp_random_xid();
	apf_dhcp_test_mac(req.chaddr);
	req.broadcast = true;
	req.client_id = true;
	snprintf(hostname, sizeof(hostname), "%.*s", (int)strcspn(fqdn, "."), fqdn);
	req.hostname = hostname;
	req.fqdn = fqdn;
	req.fqdn_flags = APF_FQDN_S | APF_FQDN_E; /* "please update A and PTR", as AMT asks */
	req.prl = prl;
	req.n_prl = sizeof(prl);

	req.type = APF_DHCP_DISCOVER;
	apf_ctx_step(ctx, "DHCPDISCOVER on %s for %s", ifname, fqdn);
	until = apf_now_ms() + listen_ms;
	rc = exchange(s, &req, INADDR_BROADCAST, 0, until, &offer);
	if (rc == -ETIMEDOUT) {
		f = apf_report(ctx, APF_ERROR, "DDNS_NO_OFFER", "No DHCP server offered a lease on %s within %u ms", ifname,
			       listen_ms);
		lease_evidence(f, ifname, req.chaddr, 0, 0);
		rc = 0;
		goto out;
	}
	if (rc) {
		f = apf_report(ctx, APF_ERROR, "DDNS_SOCKET_ERROR", "DHCPDISCOVER on %s failed", ifname);
		apf_evidence(f, "interface", "%s", ifname);
		apf_evidence(f, "error", "%s", strerror(-rc));
		rc = 0;
		goto out;
	}
	server = apf_dhcp_server_id(offer);

	req.type = APF_DHCP_REQUEST;
	req.requested_ip = offer->yiaddr;
	req.server_id = server;
	apf_ctx_step(ctx, "DHCPREQUEST for %s to %s", ip_str(offer->yiaddr, ip), ip_str(server, name));
	until = apf_now_ms() + listen_ms;
	rc = exchange(s, &req, INADDR_BROADCAST, server, until, &ack);
	if (rc == 0 && ack->type == APF_DHCP_ACK && ack->yiaddr == 0)
		rc = -ETIMEDOUT; /* an ACK without an address grants no lease: treat it as none */
	if (rc || ack->type != APF_DHCP_ACK) {
		bool nak = rc == 0;
		f = apf_report(ctx, APF_ERROR, nak ? "DDNS_LEASE_REFUSED" : rc == -ETIMEDOUT ? "DDNS_NO_ACK" : "DDNS_SOCKET_ERROR",
			       nak ? "DHCP server %s refused the test lease" : "DHCP server %s did not acknowledge the test lease",
			       ip_str(server, ip));
		lease_evidence(f, ifname, req.chaddr, server, offer->yiaddr);
		if (rc && rc != -ETIMEDOUT)
			apf_evidence(f, "error", "%s", strerror(-rc));
		if (nak) {
			size_t len;
			const uint8_t *msg = apf_dhcp_opt_get(ack, APF_DHCP_OPT_MESSAGE, &len);
			if (msg)
				apf_evidence(f, "server_message", "%.*s", (int)(len > 200 ? 200 : len), (const char *)msg);
		}
		rc = 0;
		goto out;
	}
	lease_held = true;
	yiaddr = ack->yiaddr;
	ip_str(yiaddr, ip);
	rev = apf_dns_reverse_name(ip);

	/* The name to look for: what the server says it registers (it may have qualified ours). */
	snprintf(name, sizeof(name), "%s", fqdn);
	{
		struct apf_dhcp_fqdn fq;
		size_t len;
		const uint8_t *p = apf_dhcp_opt_get(ack, APF_DHCP_OPT_CLIENT_FQDN, &len);
		if (p && apf_dhcp_fqdn_decode(p, len, &fq) == 0 && fq.fully_qualified && fq.name[0])
			snprintf(name, sizeof(name), "%s", fq.name);
	}

	dns_init(ctx, ack, &dns);
	if (dns.n == 0) {
		f = apf_report(ctx, APF_ERROR, "DDNS_NO_DNS_SERVER", "No DNS server to look up %s on", name);
		lease_evidence(f, ifname, req.chaddr, server, yiaddr);
		goto out;
	}

	/* Poll until both records are there, keeping time back for the release and the cleanup look. */
	t0 = apf_now_ms();
	{
		unsigned int left = apf_ctx_remaining_ms(ctx);
		unsigned int cap = left > 2 * RESERVE_MS ? left - RESERVE_MS : left / 2;
		unsigned int want = ack_says_no_update(ack) && wait_ms > NO_UPDATE_WAIT_MS ? NO_UPDATE_WAIT_MS : wait_ms;
		until = t0 + (want < cap ? want : cap);
	}
	apf_ctx_step(ctx, "waiting for %s A %s and its PTR on %s", name, ip, dns.srv[0].spec);
	for (;;) {
		look(ctx, &dns, name, ip, rev, &st);
		if ((st.a_ok && st.ptr_ok) || apf_now_ms() + POLL_MS >= until)
			break;
		sleep_ms(POLL_MS);
	}

	if (!st.answered) {
		f = apf_report(ctx, APF_ERROR, "DDNS_DNS_ERROR", "No DNS server answered the lookups for %s", name);
		lease_evidence(f, ifname, req.chaddr, server, yiaddr);
		apf_evidence(f, "error", "%s", st.error);
		goto out;
	}
	if (st.a_ok) {
		was_registered = true;
		f = st.ptr_ok ? apf_report(ctx, APF_PASS, "DDNS_REGISTERED",
					   "The DHCP server registered %s A %s and its PTR record", name, ip)
			      : apf_report(ctx, APF_WARN, "DDNS_PTR_MISSING",
					   "The DHCP server registered %s A %s but no PTR record appeared", name, ip);
	} else if (st.a_other) {
		f = apf_report(ctx, APF_FAIL, "DDNS_A_MISMATCH", "%s resolves to %s, not to the leased address %s", name,
			       st.a_seen, ip);
	} else {
		f = apf_report(ctx, APF_FAIL, "DDNS_NOT_REGISTERED",
			       "The DHCP server did not register %s in DNS within %llu ms of the lease", name,
			       (unsigned long long)(apf_now_ms() - t0));
	}
	lease_evidence(f, ifname, req.chaddr, server, yiaddr);
	apf_evidence(f, "option_81_sent", "flags 0x%02x (S,E), name %s", req.fqdn_flags, fqdn);
	fqdn_evidence(f, ack);
	if (!name_eq(name, fqdn)) /* e.g. dnsmasq moves foreign names into its own domain */
		apf_evidence(f, "name_changed_by_server", "asked for %s, the server registers %s", fqdn, name);
	if (ack_says_no_update(ack))
		apf_evidence(f, "ack_option_81_n", "1: the DHCP server says it will do no DNS update for this client");
	apf_evidence(f, "dns_server", "%s", st.server);
	apf_evidence(f, "a_query", "%s A", name);
	apf_evidence(f, "a_answer", "%s", st.a_ok ? ip : st.a_other ? st.a_seen : "none");
	apf_evidence(f, "ptr_query", "%s PTR", rev ? rev : "?");
	apf_evidence(f, "ptr_answer", "%s", st.ptr_seen[0] ? st.ptr_seen : "none");
	apf_evidence(f, "waited_ms", "%llu", (unsigned long long)(apf_now_ms() - t0));
out:
	if (lease_held)
		release(ctx, s, &req, server, yiaddr, ifname);
	if (lease_held && was_registered)
		watch_cleanup(ctx, &dns, name, ip, rev, wait_ms, ifname, req.chaddr, server, yiaddr);
	apf_dhcp_msg_free(offer);
	apf_dhcp_msg_free(ack);
	apf_dhcp_close(s);
	apf_dnscheck_resolver_clear(&dns);
	free(rev);
	free(err);
	return rc;
}

static const char *const requires_keys[] = {"dhcp.interface", "dhcp.test_fqdn", NULL};
static const char *const after[] = {"dhcp.options", NULL};

const struct apf_check apf_check_dhcp_ddns_registration = {
	.id = "dhcp.ddns-registration",
	.title = "DHCP registers option-81 names in DNS",
	.summary = "INTRUSIVE (opt-in): takes a real DHCP lease with a test client FQDN in option 81, waits for the "
		   "DHCP server to register its A and PTR records in DNS, as AMT relies on, then releases the lease "
		   "and checks that the records are removed.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK | APF_NEED_RAW_DHCP,
	.flags = APF_CHECK_INTRUSIVE,
	.timeout_ms = 60000,
	.codes = codes,
	.run = run,
};
