/* SPDX-License-Identifier: MIT */
/*
 * dhcp.options: asks every DHCP server on each AMT client segment for its
 * options (DHCPINFORM by default, or DHCPDISCOVER without a REQUEST) and
 * checks what AMT needs from them: option 15 (the DNS suffix AMT matches
 * against the provisioning certificate and uses to find ProvisionServer),
 * option 6 (the DNS servers) and the option 81 behaviour (RFC 4702).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amt_profile.h"
#include "amt_rules.h"
#include "check.h"
#include "devfacts.h"
#include "dhcp/codec.h"
#include "facts.h"
#include "net/dhcp.h"
#include "util.h"

/* More servers than this on one segment is already a finding; we keep the first ones. */
#define MAX_SERVERS 16
/* Time kept back from the deadline for reporting after the listen window. */
#define RESERVE_MS 300u
/* When nobody has answered yet, the request is sent once more after this long. */
#define RETRY_MS 1000u
/* The default partial name sent in option 81 when [dhcp] test_fqdn is unset. */
#define PROBE_NAME "amt-preflight-probe"

static const struct apf_code codes[] = {
	{"DHCP_INTERFACE_MISSING", APF_ERROR, "The interface named in [dhcp] interface does not exist on this host",
	 "Set [dhcp] interface to the wired interface on the AMT client segment (see `ip link`)"},
	{"DHCP_NO_IPV4_ADDRESS", APF_ERROR,
	 "DHCPINFORM needs the interface's own IPv4 address as ciaddr, and the interface has none",
	 "Give the interface an address on the AMT client segment, or set [dhcp] mode = discover"},
	{"DHCP_NO_PRIVILEGE", APF_ERROR, "Could not bind UDP port 68 on the interface: not allowed",
	 "Run as root, or grant the binary CAP_NET_BIND_SERVICE,CAP_NET_RAW "
	 "(setcap cap_net_bind_service,cap_net_raw+ep amt-preflight)"},
	{"DHCP_SOCKET_ERROR", APF_ERROR, "Could not open, bind or send on the DHCP client socket",
	 "Stop any DHCP client that holds port 68 exclusively on this host, then run again"},
	{"DHCP_NO_REPLY", APF_ERROR, "No DHCP server answered within the listen window",
	 "Check that a DHCP server or relay (ip helper-address) serves this segment and that UDP 67/68 is not "
	 "filtered; raise [dhcp] listen_seconds for slow servers"},
	{"DHCP_SERVERS", APF_PASS, "The DHCP servers that answered on the segment", "None"},
	{"DHCP_MULTIPLE_SERVERS", APF_WARN,
	 "More than one DHCP server answered: AMT may get its domain suffix and DNS servers from either",
	 "Make sure only the intended DHCP servers serve this segment, or list them all in [dhcp] expected_servers"},
	{"DHCP_UNEXPECTED_SERVER", APF_WARN, "A DHCP server not listed in [dhcp] expected_servers answered",
	 "Find and stop the rogue DHCP server, or add it to [dhcp] expected_servers"},
	{"DHCP_NAK", APF_WARN,
	 "A server answered with DHCPNAK: it considers this client's address wrong for the segment, so its "
	 "options could not be read",
	 "Check the scope for this subnet on that server (a DHCPINFORM from a valid address should get a DHCPACK)"},
	{"DHCP_OPTION15_OK", APF_PASS, "The server sends option 15 (domain name)", "None"},
	{"DHCP_OPTION15_MISSING", APF_FAIL,
	 "The server sends no option 15: AMT learns no DNS suffix, so remote configuration fails "
	 "(no ProvisionServer lookup, no certificate domain match)",
	 "Set option 15 (domain-name) to the AMT domain suffix in the scope that serves this segment"},
	{"DHCP_SUFFIX_FROM_MEBX", APF_INFO,
	 "AMT devices take their DNS suffix from MEBx or a USB provisioning file ([amt] suffix_source, or the "
	 "suffix the devices report), which AMT uses before DHCP option 15: option 15 does not decide their suffix "
	 "(WARN when some devices have no such suffix and option 15 is missing)",
	 "None, if the certificate matches the MEBx/USB suffix; devices without one need option 15 (or a MEBx "
	 "suffix)"},
	{"DHCP_DEVICE_SUFFIX_MATCH", APF_PASS,
	 "The OS suffix the devices report (they have no MEBx/USB suffix) equals option 15 on this segment", NULL},
	{"DHCP_DEVICE_SUFFIX_MISMATCH", APF_FAIL,
	 "Devices without a MEBx/USB suffix report an OS suffix other than this segment's option 15: AMT's firmware "
	 "takes option 15 while rpc-go (to RPS) and MeshCentral use the OS suffix to choose the certificate, so the "
	 "certificate is picked for one domain and checked against another; or the devices are not on this segment",
	 "Serve the same suffix to the OS and to AMT (one DHCP scope per segment, no static OS suffix), set the "
	 "suffix in MEBx, or run this check on the devices' own segment"},
	{"DHCP_OPTION15_INVALID", APF_FAIL, "Option 15 is not a usable domain name (empty, control characters, too long)",
	 "Set option 15 to a plain DNS suffix such as corp.example.com"},
	{"DHCP_SUFFIX_MATCH", APF_PASS,
	 "Option 15 satisfies an AMT domain suffix under the firmware's rule (the certificate domain lies in the "
	 "option 15 domain, or, for .com and .net names only, the last two labels are equal) and under the rule of "
	 "each activation profile declared in [amt] activation",
	 "None"},
	{"DHCP_SUFFIX_MISMATCH", APF_FAIL,
	 "Option 15 satisfies none of [amt] domain_suffixes under the firmware's rule (the last-two-labels "
	 "relaxation holds for .com and .net names only) and the declared profiles' rules (RPS: exact): AMT or the "
	 "activation server rejects the provisioning certificate, whose domain does not match the suffix from DHCP",
	 "Serve the domain the provisioning certificate was issued for in option 15, or use a provisioning "
	 "certificate for this domain (and list it in [amt] domain_suffixes)"},
	{"DHCP_OPTION6_OK", APF_PASS, "The server sends option 6 (DNS servers)", "None"},
	{"DHCP_OPTION6_MISSING", APF_FAIL,
	 "The server sends no usable option 6: AMT has no DNS server to find ProvisionServer with",
	 "Set option 6 (domain-name-servers) to the DNS servers of the AMT domain"},
	{"DHCP_FQDN_ECHO", APF_PASS, "The server answered option 81 (client FQDN) and will register the name", "None"},
	{"DHCP_FQDN_NO_UPDATE", APF_WARN,
	 "The server's option 81 says it will not register the client's A record (S=0 or N=1); AMT's own DDNS "
	 "client is off by default, so the AMT name will not appear in DNS",
	 "Enable DNS updates for option-81 clients on the DHCP server (Kea: ddns-send-updates; Windows: "
	 "'Always dynamically update DNS records')"},
	{"DHCP_FQDN_NOT_ECHOED", APF_INFO,
	 "The server sent no option 81 in its DHCPACK to DHCPINFORM; normal for Kea and Windows, which handle "
	 "option 81 only when a lease is granted",
	 "None: run dhcp.ddns-registration to test registration with a real lease"},
	{"DHCP_FQDN_IGNORED", APF_WARN,
	 "The server's DHCPOFFER carries no option 81: it ignores client FQDNs, so AMT names are not registered",
	 "Enable option 81 (client FQDN) handling and DNS updates on the DHCP server"},
	{"DHCP_FQDN_INVALID", APF_FAIL, "The server's option 81 is malformed or sets both N and S (RFC 4702 forbids it)",
	 "Fix or update the DHCP server; a client may ignore a malformed option 81"},
	{"DHCP_SUFFIX_WIRELESS_ONLY", APF_FAIL,
	 "Option 15 is handed out on a wireless segment but not on a wired one: AMT takes the suffix for remote "
	 "configuration (ACM) only from DHCP on its wired LAN and does not provision over wireless",
	 "Set option 15 in the DHCP scopes of the wired AMT client VLANs, not only in the wireless ones"},
	{0},
};

struct server {
	uint32_t id;
	struct apf_dhcp_msg *msg;
};

/* One client segment: an interface of [dhcp] interface, and what it handed out. */
struct seg {
	const char *ifname;
	bool wireless;  /* listed in [dhcp] wireless_interfaces */
	bool answered;  /* some server answered */
	bool suffix;    /* some server sent a usable option 15 */
};

/* Facts are published for the union (which downstream checks read) and per segment
 * as "<interface> <value>" ("eth1 corp.example.com"), for readers that care where. */
static char *seg_value(const struct seg *sg, const char *value)
{
	return apf_xasprintf("%s %s", sg->ifname, value);
}

/* Every finding names its segment: with several VLANs, "option 15 missing" is only
 * actionable when it says where. */
static void seg_evidence(struct apf_finding *f, const struct seg *sg)
{
	apf_evidence(f, "segment", "%s", sg->ifname);
	apf_evidence(f, "segment_type", "%s", sg->wireless ? "wireless" : "wired");
}

static const char *ip_str(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = a};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN) ? buf : "?";
}

static void common_evidence(struct apf_finding *f, const struct seg *sg, const struct apf_dhcp_msg *m)
{
	char a[INET_ADDRSTRLEN];

	seg_evidence(f, sg);
	apf_evidence(f, "server", "%s", ip_str(apf_dhcp_server_id(m), a));
	if (m->src_addr && m->src_addr != apf_dhcp_server_id(m))
		apf_evidence(f, "from", "%s", ip_str(m->src_addr, a));
	apf_evidence(f, "reply", "%s", apf_dhcp_type_name(m->type));
}

/* Devices not yet activated with no MEBx/USB suffix, keyed by their OS suffix. */
static const char *os_suffix_only(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return apf_device_activated(d) || apf_device_amt_suffix(d) ? NULL : d->dns_suffix_os;
}

/* Devices not yet activated that report facts but no MEBx/USB suffix (for "which lack one"). */
static const char *without_mebx(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return apf_device_activated(d) || apf_device_amt_suffix(d) || !d->has_amtinfo ? NULL : "-";
}

/* One finding naming a group of devices. */
static struct apf_finding *report_group(struct apf_ctx *ctx, enum apf_status st, const char *code, const struct seg *sg,
					const struct apf_dhcp_msg *m, const struct apf_dev_group *g, const char *what)
{
	char *names = apf_names_summary(g->names, g->n, APF_DEVFACTS_NAMES_SHOWN);
	struct apf_finding *f = apf_report(ctx, st, code, "%s: %s", names, what);

	common_evidence(f, sg, m);
	apf_evidence(f, "devices", "%s", names);
	apf_evidence(f, "count", "%zu", g->n);
	free(names);
	return f;
}

/*
 * No option 15. AMT uses a MEBx/USB suffix before option 15, so the missing
 * option is a FAIL only when no other suffix source is declared
 * ([amt] suffix_source) or seen in the device facts.
 */
static void option15_missing(struct apf_ctx *ctx, const struct seg *sg, const struct apf_dhcp_msg *m,
			     const struct apf_devfacts *df)
{
	const char *declared = apf_cfg(ctx)->amt.suffix_source;
	struct apf_dev_group *mebx = NULL, *without = NULL;
	size_t n_mebx = df ? apf_devfacts_group(df, apf_devkey_mebx_suffix, NULL, &mebx) : 0;
	size_t n_without = df ? apf_devfacts_group(df, without_mebx, NULL, &without) : 0;
	char a[INET_ADDRSTRLEN];
	struct apf_finding *f;

	ip_str(apf_dhcp_server_id(m), a);
	if (declared && strcmp(declared, "dhcp")) {
		f = apf_report(ctx, APF_INFO, "DHCP_SUFFIX_FROM_MEBX",
			       "DHCP server %s sends no option 15; [amt] suffix_source = %s, which AMT uses first", a, declared);
		common_evidence(f, sg, m);
		apf_evidence(f, "option_15", "absent");
		apf_evidence(f, "suffix_source", "[amt] suffix_source = %s", declared);
	} else if (n_mebx) {
		for (size_t i = 0; i < n_mebx; i++) {
			f = report_group(ctx, n_without ? APF_WARN : APF_INFO, "DHCP_SUFFIX_FROM_MEBX", sg, m, &mebx[i],
					 "no option 15 here; these devices use their MEBx/USB suffix");
			apf_evidence(f, "option_15", "absent");
			apf_evidence(f, "suffix_source", "device facts (MEBx/USB suffix)");
			apf_evidence(f, "amt_dns_suffix", "%s", mebx[i].key);
			if (n_without) {
				char *s = apf_names_summary(without[0].names, without[0].n, APF_DEVFACTS_NAMES_SHOWN);
				apf_evidence(f, "devices_without_suffix", "%s", s);
				free(s);
			}
		}
	} else {
		/* AMT takes option 15 only on its wired interface: on a wireless segment a
		 * missing suffix is worth knowing, not a provisioning failure. */
		f = apf_report(ctx, sg->wireless ? APF_INFO : APF_FAIL, "DHCP_OPTION15_MISSING",
			       "DHCP server %s sends no domain name (option 15) on %s", a, sg->ifname);
		common_evidence(f, sg, m);
		apf_evidence(f, "option_15", "absent");
		apf_evidence(f, "other_suffix_source", "none declared ([amt] suffix_source) or seen in device facts");
	}
	apf_dev_groups_free(mebx, n_mebx);
	apf_dev_groups_free(without, n_without);
}

/* Option 15 against the suffixes the devices report. */
static void option15_vs_devices(struct apf_ctx *ctx, const struct seg *sg, const struct apf_dhcp_msg *m,
				const struct apf_devfacts *df, const char *opt15)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, apf_devkey_mebx_suffix, NULL, &g);
	struct apf_finding *f;

	for (size_t i = 0; i < n; i++) {
		if (apf_dns_name_eq(g[i].key, opt15))
			continue;
		f = report_group(ctx, APF_INFO, "DHCP_SUFFIX_FROM_MEBX", sg, m, &g[i],
				 "these devices use their MEBx/USB suffix, not option 15");
		apf_evidence(f, "option_15", "%s", opt15);
		apf_evidence(f, "suffix_source", "device facts (MEBx/USB suffix)");
		apf_evidence(f, "amt_dns_suffix", "%s", g[i].key);
	}
	apf_dev_groups_free(g, n);
	n = apf_devfacts_group(df, os_suffix_only, NULL, &g);
	for (size_t i = 0; i < n; i++) {
		bool same = apf_dns_name_eq(g[i].key, opt15);

		f = report_group(ctx, same ? APF_PASS : APF_FAIL, same ? "DHCP_DEVICE_SUFFIX_MATCH" : "DHCP_DEVICE_SUFFIX_MISMATCH",
				 sg, m, &g[i],
				 same ? "their OS suffix equals option 15" : "their OS suffix differs from option 15");
		apf_evidence(f, "option_15", "%s", opt15);
		apf_evidence(f, "device_os_suffix", "%s", g[i].key);
	}
	apf_dev_groups_free(g, n);
}

static void check_option15(struct apf_ctx *ctx, struct seg *sg, const struct apf_dhcp_msg *m,
			   const struct apf_devfacts *df)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const struct apf_strlist *want = &cfg->amt.domain_suffixes;
	/* The firmware's rule, and the server rule of each declared activation profile. */
	struct apf_profile_rule rules[APF_SUFFIX_RULE_COUNT];
	size_t n_rules = apf_profile_suffix_rules(cfg, rules);
	char name[APF_DHCP_NAME_MAX], *sv;
	char a[INET_ADDRSTRLEN];
	struct apf_finding *f;
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len);

	if (!p) {
		option15_missing(ctx, sg, m, df);
		return;
	}
	if (apf_dhcp_domain_decode(p, len, name, sizeof(name)) != 0) {
		f = apf_report(ctx, APF_FAIL, "DHCP_OPTION15_INVALID", "DHCP server %s sends an unusable option 15",
			       ip_str(apf_dhcp_server_id(m), a));
		common_evidence(f, sg, m);
		apf_evidence(f, "option_15_length", "%zu", len);
		apf_evidence_hex(f, "option_15_hex", p, len, 64);
		return;
	}
	apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DHCP_DOMAIN_SUFFIX), name);
	sv = seg_value(sg, name);
	apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DHCP_SEGMENT_DOMAIN_SUFFIX), sv);
	free(sv);
	sg->suffix = true;
	f = apf_report(ctx, APF_PASS, "DHCP_OPTION15_OK", "DHCP server %s sends domain name %s",
		       ip_str(apf_dhcp_server_id(m), a), name);
	common_evidence(f, sg, m);
	apf_evidence(f, "option_15", "%s", name);
	if (df)
		option15_vs_devices(ctx, sg, m, df, name);

	if (want->n == 0)
		return;
	for (size_t i = 0; i < want->n; i++) {
		size_t r = 0;

		while (r < n_rules && apf_amt_suffix_match(want->v[i], name, rules[r].rule))
			r++;
		if (r == n_rules) {
			f = apf_report(ctx, APF_PASS, "DHCP_SUFFIX_MATCH", "Option 15 %s satisfies AMT domain suffix %s",
				       name, want->v[i]);
			common_evidence(f, sg, m);
			apf_evidence(f, "option_15", "%s", name);
			apf_evidence(f, "amt_domain_suffix", "%s", want->v[i]);
			apf_profile_rules_evidence(f, rules, n_rules);
			return;
		}
	}
	f = apf_report(ctx, APF_FAIL, "DHCP_SUFFIX_MISMATCH",
		       "Option 15 %s from DHCP server %s matches none of the AMT domain suffixes", name,
		       ip_str(apf_dhcp_server_id(m), a));
	common_evidence(f, sg, m);
	apf_evidence(f, "option_15", "%s", name);
	{
		char *list = apf_strv_join((const char *const *)want->v, want->n, ", ");
		apf_evidence(f, "amt_domain_suffixes", "%s", list);
		free(list);
	}
	apf_profile_rules_evidence(f, rules, n_rules);
}

static void check_option6(struct apf_ctx *ctx, const struct seg *sg, const struct apf_dhcp_msg *m)
{
	char a[INET_ADDRSTRLEN], list[16 * (INET_ADDRSTRLEN + 2)], *sv;
	struct apf_finding *f;
	size_t len, pos = 0;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DNS_SERVERS, &len);

	if (!p || len == 0 || len % 4 != 0) {
		f = apf_report(ctx, APF_FAIL, "DHCP_OPTION6_MISSING", "DHCP server %s sends no usable DNS servers (option 6)",
			       ip_str(apf_dhcp_server_id(m), a));
		common_evidence(f, sg, m);
		if (!p)
			apf_evidence(f, "option_6", "absent");
		else
			apf_evidence(f, "option_6", "malformed (length %zu, not a multiple of 4)", len);
		return;
	}
	list[0] = '\0';
	for (size_t i = 0; i < len; i += 4) {
		uint32_t addr;
		memcpy(&addr, p + i, 4);
		ip_str(addr, a);
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DHCP_DNS_SERVERS), a);
		sv = seg_value(sg, a);
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DHCP_SEGMENT_DNS_SERVERS), sv);
		free(sv);
		if (i / 4 < 16)
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "", a);
	}
	f = apf_report(ctx, APF_PASS, "DHCP_OPTION6_OK", "DHCP server %s sends DNS servers %s",
		       ip_str(apf_dhcp_server_id(m), a), list);
	common_evidence(f, sg, m);
	apf_evidence(f, "option_6", "%s", list);
}

static void check_option81(struct apf_ctx *ctx, const struct seg *sg, const struct apf_dhcp_msg *m)
{
	char a[INET_ADDRSTRLEN], flags[32];
	struct apf_dhcp_fqdn fq;
	struct apf_finding *f;
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);

	ip_str(apf_dhcp_server_id(m), a);
	if (!p) {
		if (m->type == APF_DHCP_OFFER) {
			f = apf_report(ctx, APF_WARN, "DHCP_FQDN_IGNORED",
				       "DHCP server %s ignored the client FQDN (no option 81 in its offer)", a);
		} else {
			f = apf_report(ctx, APF_INFO, "DHCP_FQDN_NOT_ECHOED",
				       "DHCP server %s does not answer option 81 on DHCPINFORM", a);
		}
		common_evidence(f, sg, m);
		apf_evidence(f, "option_81", "absent");
		return;
	}
	if (apf_dhcp_fqdn_decode(p, len, &fq) != 0) {
		f = apf_report(ctx, APF_FAIL, "DHCP_FQDN_INVALID", "DHCP server %s sends a malformed option 81", a);
		common_evidence(f, sg, m);
		apf_evidence(f, "option_81_length", "%zu", len);
		apf_evidence_hex(f, "option_81_hex", p, len, 64);
		return;
	}
	apf_dhcp_fqdn_flags_str(fq.flags, flags, sizeof(flags));
	if ((fq.flags & APF_FQDN_N) && (fq.flags & APF_FQDN_S)) {
		f = apf_report(ctx, APF_FAIL, "DHCP_FQDN_INVALID",
			       "DHCP server %s sets both N and S in option 81, which RFC 4702 forbids", a);
	} else if ((fq.flags & APF_FQDN_N) || !(fq.flags & APF_FQDN_S)) {
		f = apf_report(ctx, APF_WARN, "DHCP_FQDN_NO_UPDATE",
			       "DHCP server %s says it will not register the client's name (option 81 flags %s)", a, flags);
	} else {
		f = apf_report(ctx, APF_PASS, "DHCP_FQDN_ECHO", "DHCP server %s will register %s%s (option 81 flags %s)",
			       a, fq.name[0] ? fq.name : "the client name", fq.fully_qualified ? "." : "", flags);
	}
	common_evidence(f, sg, m);
	apf_evidence(f, "option_81_flags", "0x%02x (%s)", fq.flags, flags);
	apf_evidence(f, "option_81_s", "%s", fq.flags & APF_FQDN_S ? "1: the server updates the A record" : "0");
	apf_evidence(f, "option_81_o", "%s", fq.flags & APF_FQDN_O ? "1: the server overrode the client's S" : "0");
	apf_evidence(f, "option_81_e", "%s", fq.wire ? "1: wire-format name" : "0: ASCII name");
	apf_evidence(f, "option_81_n", "%s", fq.flags & APF_FQDN_N ? "1: the server does no DNS update" : "0");
	apf_evidence(f, "option_81_rcodes", "%u/%u", fq.rcode1, fq.rcode2);
	apf_evidence(f, "option_81_name", "%s%s", fq.name, fq.fully_qualified ? "." : "");
}

/* Sends the probe and collects one reply per server until `until` (monotonic ms). */
static int collect(struct apf_ctx *ctx, struct apf_dhcp_sock *s, const uint8_t *pkt, size_t len, uint32_t xid,
		   uint64_t until, struct server *srv, size_t *n_srv, size_t *n_dropped, unsigned int *n_sent)
{
	uint64_t retry_at = apf_now_ms() + RETRY_MS;
	bool retried = false;
	int rc = apf_dhcp_send(s, pkt, len, INADDR_BROADCAST);

	if (rc)
		return rc;
	*n_sent = 1;
	for (;;) {
		struct apf_dhcp_msg *m = NULL;
		bool dup = false;
		uint64_t wait = !retried && *n_srv == 0 && retry_at < until ? retry_at : until;

		rc = apf_dhcp_recv(s, xid, wait, &m);
		if (rc == -ETIMEDOUT) {
			if (wait == until)
				return 0;
			/* DHCP runs over UDP: one lost datagram should not read as "no server". */
			retried = true;
			rc = apf_dhcp_send(s, pkt, len, INADDR_BROADCAST);
			if (rc)
				return rc;
			(*n_sent)++;
			continue;
		}
		if (rc)
			return rc;
		if (m->type != APF_DHCP_ACK && m->type != APF_DHCP_OFFER && m->type != APF_DHCP_NAK) {
			apf_dhcp_msg_free(m);
			continue;
		}
		for (size_t i = 0; i < *n_srv; i++)
			dup = dup || srv[i].id == apf_dhcp_server_id(m);
		if (dup) { /* the same server answering our retransmission */
			apf_dhcp_msg_free(m);
			continue;
		}
		if (*n_srv == MAX_SERVERS) {
			(*n_dropped)++;
			apf_dhcp_msg_free(m);
			continue;
		}
		srv[*n_srv].id = apf_dhcp_server_id(m);
		srv[*n_srv].msg = m;
		(*n_srv)++;
		apf_ctx_step(ctx, "collecting DHCP replies (%zu so far)", *n_srv);
	}
}

static void report_servers(struct apf_ctx *ctx, const struct seg *sg, const char *mode, const struct server *srv,
			   size_t n, size_t dropped, unsigned int window_ms)
{
	const struct apf_strlist *expected = &apf_cfg(ctx)->dhcp.expected_servers;
	char a[INET_ADDRSTRLEN], list[MAX_SERVERS * (INET_ADDRSTRLEN + 2)], *expected_list = NULL;
	size_t pos = 0, n_unexpected = 0;
	struct apf_finding *f;

	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		ip_str(srv[i].id, a);
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "", a);
		if (expected->n && !apf_strlist_has(expected, a))
			n_unexpected++;
	}
	f = apf_report(ctx, APF_PASS, "DHCP_SERVERS", "%zu DHCP server%s answered on %s: %s", n + dropped,
		       n + dropped == 1 ? "" : "s", sg->ifname, list);
	seg_evidence(f, sg);
	apf_evidence(f, "request", "%s", strcmp(mode, "discover") == 0 ? "DHCPDISCOVER (no REQUEST follows)" : "DHCPINFORM");
	apf_evidence(f, "listen_ms", "%u", window_ms);
	apf_evidence(f, "servers", "%s", list);
	if (dropped)
		apf_evidence(f, "servers_not_shown", "%zu", dropped);

	if (n + dropped > 1 && (expected->n == 0 || n_unexpected > 0 || dropped)) {
		f = apf_report(ctx, APF_WARN, "DHCP_MULTIPLE_SERVERS", "%zu DHCP servers answered on %s", n + dropped,
			       sg->ifname);
		seg_evidence(f, sg);
		apf_evidence(f, "servers", "%s", list);
	}
	if (expected->n == 0)
		return;
	/* Built on the heap: configured entries ("[IPv6]#port") are longer than the
	 * addresses the fixed `list` is sized for. */
	expected_list = apf_strv_join((const char *const *)expected->v, expected->n, ", ");
	for (size_t i = 0; i < n; i++) {
		ip_str(srv[i].id, a);
		if (apf_strlist_has(expected, a))
			continue;
		f = apf_report(ctx, APF_WARN, "DHCP_UNEXPECTED_SERVER", "DHCP server %s is not in [dhcp] expected_servers",
			       a);
		common_evidence(f, sg, srv[i].msg);
		apf_evidence(f, "expected_servers", "%s", expected_list);
	}
	free(expected_list);
}

/* Probes one segment for at most `window_ms`; every finding names it. */
static int probe_segment(struct apf_ctx *ctx, struct seg *sg, unsigned int window_ms, const struct apf_devfacts *df)
{
	static const uint8_t prl[] = {APF_DHCP_OPT_SUBNET_MASK, APF_DHCP_OPT_ROUTER, APF_DHCP_OPT_DNS_SERVERS,
				      APF_DHCP_OPT_HOSTNAME, APF_DHCP_OPT_DOMAIN_NAME, APF_DHCP_OPT_DOMAIN_SEARCH};
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *ifname = sg->ifname;
	const char *mode = cfg->dhcp.mode ? cfg->dhcp.mode : "inform";
	bool discover = strcmp(mode, "discover") == 0;
	const char *fqdn = cfg->dhcp.test_fqdn ? cfg->dhcp.test_fqdn : PROBE_NAME;
	char hostname[64], a[INET_ADDRSTRLEN], *err = NULL;
	struct server srv[MAX_SERVERS];
	size_t n_srv = 0, dropped = 0, pkt_len = 0;
	struct apf_dhcp_ifinfo ifi;
	struct apf_dhcp_sock *s = NULL;
	struct apf_dhcp_req req = {0};
	uint8_t pkt[APF_DHCP_ENCODE_MAX];
	unsigned int window = window_ms, n_sent = 0;
	struct apf_finding *f;
	int rc;

	rc = apf_dhcp_ifinfo(ifname, &ifi);
	if (rc == -ENODEV) {
		f = apf_report(ctx, APF_ERROR, "DHCP_INTERFACE_MISSING", "Interface %s does not exist on this host", ifname);
		seg_evidence(f, sg);
		rc = 0;
		goto out;
	}
	if (rc) {
		f = apf_report(ctx, APF_ERROR, "DHCP_SOCKET_ERROR", "Could not read the addresses of %s", ifname);
		seg_evidence(f, sg);
		apf_evidence(f, "error", "getifaddrs: %s", strerror(-rc));
		rc = 0;
		goto out;
	}
	if (!discover && ifi.addr == 0) {
		f = apf_report(ctx, APF_ERROR, "DHCP_NO_IPV4_ADDRESS",
			       "Interface %s has no IPv4 address to send DHCPINFORM from", ifname);
		seg_evidence(f, sg);
		apf_evidence(f, "mode", "inform");
		goto out;
	}

	rc = apf_dhcp_open(ifname, &s, &err);
	if (rc) {
		const char *code = rc == -EACCES ? "DHCP_NO_PRIVILEGE"
				   : rc == -ENODEV ? "DHCP_INTERFACE_MISSING"
						   : "DHCP_SOCKET_ERROR";
		f = apf_report(ctx, APF_ERROR, code, "Could not open a DHCP client socket on %s", ifname);
		seg_evidence(f, sg);
		apf_evidence(f, "error", "%s", err ? err : strerror(-rc));
		rc = 0;
		goto out;
	}

	/* An INFORM speaks for this host (its address and MAC); a DISCOVER uses the
	 * recognisable test MAC so a server's log or offer cache shows it was us. */
	req.type = discover ? APF_DHCP_DISCOVER : APF_DHCP_INFORM;
	req.xid = apf_dhcp_random_xid();
	if (discover || !ifi.has_mac)
		apf_dhcp_test_mac(req.chaddr);
	else
		memcpy(req.chaddr, ifi.mac, 6);
	req.broadcast = discover;
	req.ciaddr = discover ? 0 : ifi.addr;
	req.client_id = true;
	snprintf(hostname, sizeof(hostname), "%.*s", (int)strcspn(fqdn, "."), fqdn);
	req.hostname = hostname;
	req.fqdn = fqdn;
	req.fqdn_flags = APF_FQDN_S | APF_FQDN_E;
	req.prl = prl;
	req.n_prl = sizeof(prl);
	rc = apf_dhcp_encode(&req, pkt, sizeof(pkt), &pkt_len);
	if (rc) {
		f = apf_report(ctx, APF_ERROR, "DHCP_SOCKET_ERROR", "Could not encode the DHCP request for %s", fqdn);
		apf_evidence(f, "fqdn", "%s", fqdn);
		rc = 0;
		goto out;
	}

	apf_ctx_step(ctx, "%s broadcast on %s, listening %u ms", apf_dhcp_type_name(req.type), ifname, window);
	rc = collect(ctx, s, pkt, pkt_len, req.xid, apf_now_ms() + window, srv, &n_srv, &dropped, &n_sent);
	if (rc) {
		f = apf_report(ctx, APF_ERROR, "DHCP_SOCKET_ERROR", "DHCP exchange on %s failed", ifname);
		seg_evidence(f, sg);
		apf_evidence(f, "error", "%s", strerror(-rc));
		rc = 0;
		goto out;
	}
	if (n_srv == 0) {
		f = apf_report(ctx, APF_ERROR, "DHCP_NO_REPLY", "No DHCP server answered a %s on %s within %u ms",
			       apf_dhcp_type_name(req.type), ifname, window);
		seg_evidence(f, sg);
		apf_evidence(f, "request", "%s to 255.255.255.255:67, sent %u time%s", apf_dhcp_type_name(req.type),
			     n_sent, n_sent == 1 ? "" : "s");
		if (!discover)
			apf_evidence(f, "ciaddr", "%s", ip_str(req.ciaddr, a));
		apf_evidence(f, "listen_ms", "%u", window);
		goto out;
	}

	sg->answered = true;
	report_servers(ctx, sg, mode, srv, n_srv, dropped, window);
	for (size_t i = 0; i < n_srv; i++) {
		const struct apf_dhcp_msg *m = srv[i].msg;
		if (m->type == APF_DHCP_NAK) {
			/* A NAK carries no options worth judging; say so instead of failing on them. */
			f = apf_report(ctx, APF_WARN, "DHCP_NAK", "DHCP server %s answered with DHCPNAK",
				       ip_str(srv[i].id, a));
			common_evidence(f, sg, m);
			continue;
		}
		check_option15(ctx, sg, m, df);
		check_option6(ctx, sg, m);
		check_option81(ctx, sg, m);
	}
out:
	for (size_t i = 0; i < n_srv; i++)
		apf_dhcp_msg_free(srv[i].msg);
	apf_dhcp_close(s);
	free(err);
	return rc;
}

/*
 * ACM remote configuration needs option 15 from a DHCP server on AMT's wired LAN
 * (Intel article 000100444) and AMT does not provision over wireless (ConfigMgr's
 * 0x80090304 error text): a suffix that only wireless segments hand out leaves the
 * wired ones without it, which the per-server findings alone do not say. Moot when
 * the devices take their suffix from MEBx or USB ([amt] suffix_source).
 */
static void report_wireless_only(struct apf_ctx *ctx, const struct seg *segs, size_t n)
{
	const char *declared = apf_cfg(ctx)->amt.suffix_source;
	struct apf_buf wired = {0}, wireless = {0};
	struct apf_finding *f;
	char *w = NULL, *wl = NULL;

	if (declared && strcmp(declared, "dhcp") != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct seg *sg = &segs[i];
		if (sg->wireless && sg->suffix)
			apf_buf_addf(&wireless, "%s%s", wireless.len ? ", " : "", sg->ifname);
		else if (!sg->wireless && sg->answered && !sg->suffix)
			apf_buf_addf(&wired, "%s%s", wired.len ? ", " : "", sg->ifname);
	}
	w = apf_buf_steal(&wired);
	wl = apf_buf_steal(&wireless);
	if (*w && *wl) {
		f = apf_report(ctx, APF_FAIL, "DHCP_SUFFIX_WIRELESS_ONLY",
			       "Option 15 is handed out on wireless segment(s) %s but not on wired segment(s) %s", wl, w);
		apf_evidence(f, "segment", "%s", w);
		apf_evidence(f, "segment_type", "wired");
		apf_evidence(f, "wireless_with_suffix", "%s", wl);
	}
	free(w);
	free(wl);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const struct apf_strlist *ifs = &cfg->dhcp.interfaces;
	struct seg *segs = apf_xcalloc(ifs->n, sizeof(*segs));
	unsigned int listen = (unsigned int)cfg->dhcp.listen_seconds * 1000u;
	/* What the devices report, to judge option 15 by: read once for every segment. */
	struct apf_devfacts *df =
		apf_devfacts_configured(cfg) ? apf_devfacts_load_config(cfg, apf_ctx_deadline_ms(ctx)) : NULL;
	int rc = 0;

	if (listen == 0)
		listen = 3000;
	for (size_t i = 0; i < ifs->n && rc == 0; i++) {
		/* Segments are probed one after the other; each gets its listen window,
		 * cut to a fair share of what is left so the last one is not starved. */
		unsigned int remaining = apf_ctx_remaining_ms(ctx), window = listen;
		remaining = remaining > RESERVE_MS ? remaining - RESERVE_MS : 0;
		if (window > remaining / (unsigned int)(ifs->n - i))
			window = remaining / (unsigned int)(ifs->n - i);
		segs[i].ifname = ifs->v[i];
		segs[i].wireless = apf_strlist_has(&cfg->dhcp.wireless_interfaces, ifs->v[i]);
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DHCP_SEGMENT), ifs->v[i]);
		rc = probe_segment(ctx, &segs[i], window, df);
	}
	if (rc == 0)
		report_wireless_only(ctx, segs, ifs->n);
	apf_devfacts_free(df);
	free(segs);
	return rc;
}

static const char *const requires_keys[] = {"dhcp.interface", NULL};

const struct apf_check apf_check_dhcp_options = {
	.id = "dhcp.options",
	.title = "DHCP options 15, 6 and 81",
	.summary = "Asks every DHCP server on each AMT client segment (DHCPINFORM, or DHCPDISCOVER without REQUEST) for "
		   "option 15 (the DNS suffix AMT needs for remote configuration and matches against the provisioning "
		   "certificate), option 6 (DNS servers) and its option-81 (client FQDN) behaviour; warns on extra servers.",
	.requires_keys = requires_keys,
	.needs = APF_NEED_NETWORK | APF_NEED_RAW_DHCP,
	.timeout_ms = 30000, /* one listen window per segment */
	.codes = codes,
	.run = run,
};
