/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "amt_profile.h"
#include "config.h"
#include "alloc.h"
#include "endpoint_url.h"
#include "result.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

/* ---- value validators: NULL when fine, else what is wrong ---------------- */

static const char *v_addr(const char *s)
{
	unsigned char buf[16];
	char host[64];
	const char *hash = strchr(s, '#');
	size_t n = hash ? (size_t)(hash - s) : strlen(s);

	if (n == 0 || n >= sizeof(host))
		return "is not an IP address";
	memcpy(host, s, n);
	host[n] = '\0';
	if (hash) {
		char *end;
		long port = strtol(hash + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return "has a bad port after '#' (1-65535)";
	}
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
		return "is not an IP address (names are not accepted here: give the address)";
	return NULL;
}

static const char *v_hostname(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 253)
		return "is not a valid host or domain name";
	if (!v_addr(s))
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0 && p[1] != '\0')
				return "has an empty label";
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return "has a character not allowed in a DNS name";
		if (++label > 63)
			return "has a label longer than 63 characters";
	}
	return NULL;
}

static const char *v_generation(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 99)
		return "is not an AMT/CSME major version (1-99)";
	return NULL;
}

static const char *v_check_id(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '.' && *p != '-')
			return "is not a check id (like dhcp.ddns-registration)";
	}
	return NULL;
}

static const char *v_template(const char *s)
{
	return apf_str_is_clean(s) && *s ? NULL : "is not a template name";
}

static const char *v_iface(const char *s)
{
	if (strlen(s) >= 16 || strchr(s, '/'))
		return "is not a network interface name";
	return NULL;
}

/* Endpoint URLs and host[:port] lists: the same parser the checks use. */
static const char *v_endpoint(const char *s, bool bare_host)
{
	struct apf_endpoint e;
	const char *why = NULL;
	/* Port 1 stands in for the configured default port, which a validator cannot see. */
	int rc = bare_host ? apf_endpoint_parse_host(s, 1, &e, &why) : apf_endpoint_parse(s, 0, &e, &why);

	apf_endpoint_clear(&e);
	return rc < 0 ? why : NULL;
}

static const char *v_endpoint_url(const char *s)
{
	return v_endpoint(s, false);
}

static const char *v_host_port(const char *s)
{
	return v_endpoint(s, true);
}

static const char *v_profile(const char *s)
{
	return apf_profile_find(s) ? NULL : "is not an activation profile (`amt-preflight explain amt.activation` lists them)";
}

/* ---- the key table --------------------------------------------------------- */

#define OFF(f) offsetof(struct apf_config, f)

/* Every key the file may hold. docs/config.md and docs/example.conf document each
 * one; tests/unit/test_config.c keeps them in sync with this table. */
const struct apf_cfg_key apf_cfg_keys[] = {
	{"site", "name", APF_CFG_STRING, OFF(site.name), NULL, 0, 0, NULL, NULL, NULL,
	 "A name for the site or environment, shown at the top of every report."},
	{"site", "enable", APF_CFG_LIST, OFF(site.enable), NULL, 0, 0, NULL, NULL, v_check_id,
	 "Intrusive checks to run (they change state on the network, e.g. dhcp.ddns-registration takes a lease). "
	 "They run only when listed here or named with --only."},
	{"site", "waivers", APF_CFG_PATH, OFF(site.waivers), NULL, 0, 0, NULL, NULL, NULL,
	 "A waiver file (docs/waivers.md): accepted risks, each a finding code with an optional check id and "
	 "evidence match, a justification, an owner and an expiry date. Waived findings are shown but do not "
	 "count toward the verdict."},

	{"dns", "servers", APF_CFG_LIST, OFF(dns.servers), NULL, 0, 0, NULL, NULL, v_addr,
	 "The DNS servers AMT clients use, as IP addresses (optionally ADDRESS#PORT). When empty, the "
	 "servers learned from DHCP option 6 by dhcp.options are used. The host's own resolver is never used."},
	{"dns", "tsig_key_file", APF_CFG_PATH, OFF(dns.tsig_key_file), NULL, 0, 0, NULL, NULL, NULL,
	 "A BIND key file (key \"name\" { algorithm hmac-sha256; secret \"...\"; };) used to sign queries "
	 "in dns.servers. The secret is never reported."},
	{"dns", "hosts_file", APF_CFG_PATH, OFF(dns.hosts_file), NULL, 0, 0, NULL, NULL, NULL,
	 "Host list for dns.host-registration: one FQDN a line, optionally followed by its expected address; "
	 "# starts a comment."},
	{"dns", "window", APF_CFG_INT, OFF(dns.window), "256", 1, 4096, NULL, NULL, NULL,
	 "Queries in flight at once in fleet audits."},
	{"dns", "rate_limit", APF_CFG_INT, OFF(dns.rate_limit), "5000", 0, 10000000, NULL, NULL, NULL,
	 "Queries per second sent to each DNS server in fleet audits (0 = no limit). The default is polite "
	 "to production resolvers; raise it for a lab or an authoritative server you own."},

	{"dhcp", "interface", APF_CFG_LIST, OFF(dhcp.interfaces), NULL, 0, 0, NULL, NULL, v_iface,
	 "The interfaces on the AMT client segments that DHCP probes are sent from, one per segment (VLAN, "
	 "wired or wireless); dhcp.options probes each, dhcp.ddns-registration uses the first. Needs root or "
	 "CAP_NET_BIND_SERVICE and CAP_NET_RAW to bind UDP port 68."},
	{"dhcp", "mode", APF_CFG_CHOICE, OFF(dhcp.mode), "inform", 0, 0, "inform|discover", NULL, NULL,
	 "inform sends DHCPINFORM (takes no lease; the default). discover sends DHCPDISCOVER and never "
	 "REQUESTs the offer."},
	{"dhcp", "listen_seconds", APF_CFG_INT, OFF(dhcp.listen_seconds), "3", 1, 60, NULL, NULL, NULL,
	 "How long to collect DHCP replies (every server that answers is reported)."},
	{"dhcp", "test_fqdn", APF_CFG_STRING, OFF(dhcp.test_fqdn), NULL, 0, 0, NULL, NULL, v_hostname,
	 "The client FQDN dhcp.ddns-registration sends in option 81 and then looks for in DNS."},
	{"dhcp", "register_wait_seconds", APF_CFG_INT, OFF(dhcp.register_wait_seconds), "15", 1, 300, NULL, NULL,
	 NULL, "How long dhcp.ddns-registration waits for the A and PTR records to appear."},
	{"dhcp", "expected_servers", APF_CFG_LIST, OFF(dhcp.expected_servers), NULL, 0, 0, NULL, NULL, v_addr,
	 "The DHCP servers that should answer on the segment; any other is reported as unexpected."},
	{"dhcp", "wireless_interfaces", APF_CFG_LIST, OFF(dhcp.wireless_interfaces), NULL, 0, 0, NULL, NULL, v_iface,
	 "Which of [dhcp] interface are wireless segments. AMT's remote configuration (ACM) takes its DNS suffix "
	 "from DHCP option 15 on the wired interface only, so a suffix handed out only on wireless is reported."},

	{"ad", "domain", APF_CFG_STRING, OFF(ad.domain), NULL, 0, 0, NULL, NULL, v_hostname,
	 "The Active Directory DNS domain (e.g. corp.example.com)."},
	{"ad", "domain_controllers", APF_CFG_LIST, OFF(ad.domain_controllers), NULL, 0, 0, NULL, NULL, v_hostname,
	 "Domain controllers to check; when empty they are found through the _ldap._tcp.dc._msdcs SRV record."},
	{"ad", "bind_dn", APF_CFG_STRING, OFF(ad.bind_dn), NULL, 0, 0, NULL, NULL, NULL,
	 "The service account amt-preflight binds as: a DN or user@domain (UPN). Read access to the "
	 "Configuration partition is enough."},
	{"ad", "bind_password_file", APF_CFG_PATH, OFF(ad.bind_password_file), NULL, 0, 0, NULL,
	 "AMT_PREFLIGHT_BIND_PASSWORD", NULL,
	 "A file holding the bind password (first line). Alternatively set the environment variable "
	 "AMT_PREFLIGHT_BIND_PASSWORD. Passwords are never accepted in this file or on the command line."},
	{"ad", "ca_bundle", APF_CFG_PATH, OFF(ad.ca_bundle), NULL, 0, 0, NULL, NULL, NULL,
	 "PEM bundle used to verify the domain controllers' LDAPS/StartTLS certificates."},
	{"ad", "tls", APF_CFG_CHOICE, OFF(ad.tls), "starttls", 0, 0, "starttls|ldaps|none", NULL, NULL,
	 "How the authenticated bind is protected. none sends the password in clear and is reported as a warning."},

	{"ca", "templates", APF_CFG_LIST, OFF(ca.templates), NULL, 0, 0, NULL, NULL, v_template,
	 "The certificate template names (cn) the setup and configuration server requests AMT certificates with."},
	{"ca", "web_enrollment_url", APF_CFG_STRING, OFF(ca.web_enrollment_url), NULL, 0, 0, NULL, NULL, NULL,
	 "Web enrollment URL to probe (https://ca.example.com/certsrv/), when the setup server uses it."},
	{"ca", "crl_warn_hours", APF_CFG_INT, OFF(ca.crl_warn_hours), "48", 0, 8760, NULL, NULL, NULL,
	 "Warn when a CRL's nextUpdate is closer than this."},
	{"ca", "enroll_accounts", APF_CFG_LIST, OFF(ca.enroll_accounts), NULL, 0, 0, NULL, NULL, NULL,
	 "The account(s) the setup and configuration server requests certificates as: a user, its computer "
	 "account (SCS01$), or a group, as sAMAccountName, DOMAIN\\name, UPN or DN, looked up in the domain "
	 "amt-preflight binds to (a DOMAIN\\ prefix is not used to pick another domain). ca.enroll-permission "
	 "checks that each may enroll for every template in [ca] templates."},
	{"ca", "enroll_user", APF_CFG_STRING, OFF(ca.enroll_user), NULL, 0, 0, NULL, NULL, NULL,
	 "The account ca.test-enrollment logs on to web enrollment as (DOMAIN\\user or user@domain): the "
	 "account the setup server uses, so the test sees its permissions."},
	{"ca", "enroll_password_file", APF_CFG_PATH, OFF(ca.enroll_password_file), NULL, 0, 0, NULL,
	 "AMT_PREFLIGHT_ENROLL_PASSWORD", NULL,
	 "A file holding enroll_user's password (first line). Alternatively set the environment variable "
	 "AMT_PREFLIGHT_ENROLL_PASSWORD."},
	{"ca", "enroll_auth", APF_CFG_CHOICE, OFF(ca.enroll_auth), "any", 0, 0, "any|negotiate|ntlm|basic", NULL, NULL,
	 "HTTP authentication ca.test-enrollment offers web enrollment: any (what the server asks for; "
	 "Basic only over HTTPS), negotiate (Kerberos/SPNEGO with the caller's ticket), ntlm or basic."},
	{"ca", "web_ca_bundle", APF_CFG_PATH, OFF(ca.web_ca_bundle), NULL, 0, 0, NULL, NULL, NULL,
	 "PEM bundle used to verify the web enrollment server's HTTPS certificate (default: the system store)."},
	{"ca", "test_template", APF_CFG_STRING, OFF(ca.test_template), NULL, 0, 0, NULL, NULL, v_template,
	 "The template ca.test-enrollment requests a certificate with (default: the first of [ca] templates)."},
	{"ca", "test_fqdn", APF_CFG_STRING, OFF(ca.test_fqdn), NULL, 0, 0, NULL, NULL, v_hostname,
	 "A DNS name reserved for the test certificate ca.test-enrollment requests (subject CN and SAN); "
	 "default amt-preflight-test.<[ad] domain>."},

	{"provisioning", "certificate", APF_CFG_PATH, OFF(provisioning.certificate), NULL, 0, 0, NULL, NULL, NULL,
	 "The provisioning (setup) certificate: PFX/PKCS#12 (also legacy RC2/3DES exports), PEM or DER."},
	{"provisioning", "key", APF_CFG_PATH, OFF(provisioning.key), NULL, 0, 0, NULL, NULL, NULL,
	 "The private key (PEM or DER) when the certificate file does not hold it."},
	{"provisioning", "chain", APF_CFG_PATH, OFF(provisioning.chain), NULL, 0, 0, NULL, NULL, NULL,
	 "Extra certificates (PEM) to build the chain with, as the setup server's certificate stores would."},
	{"provisioning", "password_file", APF_CFG_PATH, OFF(provisioning.password_file), NULL, 0, 0, NULL,
	 "AMT_PREFLIGHT_PFX_PASSWORD", NULL,
	 "A file holding the PFX password (first line). Alternatively set AMT_PREFLIGHT_PFX_PASSWORD."},
	{"provisioning", "server_addresses", APF_CFG_LIST, OFF(provisioning.server_addresses), NULL, 0, 0, NULL,
	 NULL, v_addr,
	 "The setup and configuration server's addresses: ProvisionServer must resolve to these."},
	{"provisioning", "hello_port", APF_CFG_INT, OFF(provisioning.hello_port), "9971", 1, 65535, NULL, NULL,
	 NULL, "The TCP port the setup and configuration server takes AMT hello messages on."},
	{"provisioning", "intermediate_store", APF_CFG_PATH, OFF(provisioning.intermediate_store), NULL, 0, 0,
	 NULL, NULL, NULL,
	 "A directory of certificates exported from the setup server's Intermediate Certification "
	 "Authorities store (PEM, DER or PKCS#7), audited by cert.intermediate-store."},
	{"provisioning", "warn_days", APF_CFG_INT, OFF(provisioning.warn_days), "30", 0, 3650, NULL, NULL, NULL,
	 "Warn about certificates that expire within this many days."},
	{"provisioning", "check_revocation", APF_CFG_BOOL, OFF(provisioning.check_revocation), "yes", 0, 0, NULL,
	 NULL, NULL, "Ask the CRL distribution points and OCSP responders of the chain (bounded by the timeout)."},

	{"amt", "domain_suffixes", APF_CFG_LIST, OFF(amt.domain_suffixes), NULL, 0, 0, NULL, NULL, v_hostname,
	 "The AMT domain suffixes: what DHCP option 15 hands out or the MEBx PKI DNS suffix is set to."},
	{"amt", "generations", APF_CFG_LIST, OFF(amt.generations), NULL, 0, 0, NULL, NULL, v_generation,
	 "AMT/CSME major versions in the fleet (e.g. 11, 12, 16). Each gets the rules of "
	 "data/amt-generations.csv: ME 15 on H-series platforms and ME 16 and later reject SHA-1 and RSA keys "
	 "under 2048 bits anywhere in the provisioning chain. The majors that devices not yet activated report in "
	 "[amt] device_facts are targeted too; with neither, the newest rules apply."},
	{"amt", "device_hashes", APF_CFG_LIST, OFF(amt.device_hashes), NULL, 0, 0, NULL, NULL, NULL,
	 "Deprecated alias of [amt] device_facts (read the same way; both may be set): files with the trusted "
	 "root hashes of real devices, `rpc amtinfo --cert --json` output or one hex hash a line."},
	{"amt", "tls_hosts", APF_CFG_LIST, OFF(amt.tls_hosts), NULL, 0, 0, NULL, NULL, v_hostname,
	 "AMT hosts (FQDNs) whose TLS port amt.tls probes: each is resolved through the DNS servers clients use "
	 "and its certificate compared with that name. When empty, the names in [dns] hosts_file are used."},
	{"amt", "tls_port", APF_CFG_INT, OFF(amt.tls_port), "16993", 1, 65535, NULL, NULL, NULL,
	 "The port AMT answers TLS on (16993; the only remote management path from CSME 16.1 on)."},
	{"amt", "tls_max_hosts", APF_CFG_INT, OFF(amt.tls_max_hosts), "100000", 1, 1000000, NULL, NULL, NULL,
	 "Most hosts amt.tls probes in one run; a longer list is cut (with a finding). Memory stays bounded "
	 "(about 0.5 KiB a host); time is what the check's timeout allows."},
	{"amt", "tls_window", APF_CFG_INT, OFF(amt.tls_window), "64", 1, 1024, NULL, NULL, NULL,
	 "TLS handshakes amt.tls keeps in flight at once."},
	{"amt", "tls_redirection", APF_CFG_BOOL, OFF(amt.tls_redirection), "no", 0, 0, NULL, NULL, NULL,
	 "Also probe AMT's redirection port over TLS (16995: SOL, IDE-R, KVM through a console) on every host."},
	{"amt", "activation", APF_CFG_LIST, OFF(amt.activation), NULL, 0, 0, NULL, NULL, v_profile,
	 "How the site activates AMT, one or more of: remote-config (Intel SCS or ConfigMgr receive AMT's Hello; "
	 "AMT looks up ProvisionServer), rps (rpc-go + RPS of Open AMT / Device Management Toolkit: the certificate's "
	 "domain must equal the device's DNS suffix exactly), meshcentral (MeshCentral's trusted-FQDN compare), ema "
	 "(Intel EMA), scs-host-based (Intel SCS/ACUConfig on the host). Selects the rules: a missing ProvisionServer "
	 "is FAIL only with remote-config. Unset: no path is assumed, a missing ProvisionServer is INFO and only the "
	 "firmware's own suffix rule is applied (docs/profiles.md)."},
	{"amt", "device_facts", APF_CFG_LIST, OFF(amt.device_facts), NULL, 0, 0, NULL, NULL, NULL,
	 "Files or directories of what devices report: `rpc amtinfo --json` (version, control mode, DNS suffixes, "
	 "root hashes), `rpc status --json` (readiness), or one root hash a line. Files of one device are merged "
	 "(by hostnameOS, else the file name up to its first dot). Read by amt.devices, cert.amt-root-hash, "
	 "cert.provisioning and dhcp.options."},
	{"amt", "suffix_source", APF_CFG_CHOICE, OFF(amt.suffix_source), NULL, 0, 0, "dhcp|mebx|usb", NULL, NULL,
	 "Where AMT devices get their DNS suffix: dhcp (option 15), mebx (the PKI DNS suffix typed in MEBx) or usb "
	 "(USB provisioning file). AMT uses a MEBx/USB suffix before option 15, so with mebx or usb a missing "
	 "option 15 is not a FAIL. Unset: dhcp, unless device facts show a MEBx/USB suffix."},

	{"activation", "endpoints", APF_CFG_LIST, OFF(activation.endpoints), NULL, 0, 0, NULL, NULL, v_endpoint_url,
	 "Activation and management server endpoints devices or their agents connect to, as URLs: "
	 "wss://rps.example.com/activate (Open AMT RPS), wss://mesh.example.com/agent.ashx (MeshCentral), "
	 "https://ema.example.com/ (Intel EMA), tls://host:port or tcp://host:port (the SCS host). Each is "
	 "resolved through the DNS servers clients use and checked over TCP, TLS and, for wss://, the WebSocket "
	 "upgrade."},
	{"activation", "ca_bundle", APF_CFG_PATH, OFF(activation.ca_bundle), NULL, 0, 0, NULL, NULL, NULL,
	 "PEM file of the roots (and intermediates) the activation servers' certificates must chain to: what "
	 "rpc and the agents trust. When unset, the chain is shown but not judged."},

	{"cira", "mps", APF_CFG_LIST, OFF(cira.mps), NULL, 0, 0, NULL, NULL, v_host_port,
	 "The MPS (Management Presence Server) names or addresses devices are configured with for CIRA, "
	 "optionally NAME:PORT."},
	{"cira", "port", APF_CFG_INT, OFF(cira.port), "4433", 1, 65535, NULL, NULL, NULL,
	 "The CIRA port on the MPS when a name in [cira] mps has none (4433: Open AMT and MeshCentral)."},
	{"cira", "ca_bundle", APF_CFG_PATH, OFF(cira.ca_bundle), NULL, 0, 0, NULL, NULL, NULL,
	 "PEM file with the MPS certificate's root (and intermediates) as the management server installs it in "
	 "AMT, for when the MPS does not send its whole chain."},
	{"cira", "public_dns_servers", APF_CFG_LIST, OFF(cira.public_dns_servers), NULL, 0, 0, NULL, NULL, v_addr,
	 "DNS servers devices use away from the enterprise network (e.g. an ISP or public resolver reachable "
	 "from here), to check that the MPS name resolves there too. Never the host's resolver."},
	{"cira", "home_domains", APF_CFG_LIST, OFF(cira.home_domains), NULL, 0, 0, NULL, NULL, v_hostname,
	 "AMT's environment-detection domains: a device whose DHCP option 15 matches one thinks it is inside the "
	 "enterprise network and opens no CIRA connection."},
	{"scs", "sql_server", APF_CFG_STRING, OFF(scs.sql_server), NULL, 0, 0, NULL, NULL, v_hostname,
	 "The SQL Server holding the Intel SCS database (database mode): a host name (resolved through the DNS "
	 "servers clients use) or an address. scs.sql connects to it and asks for its TDS PRELOGIN answer."},
	{"scs", "sql_port", APF_CFG_INT, OFF(scs.sql_port), "1433", 1, 65535, NULL, NULL, NULL,
	 "The TCP port of the SQL Server instance (1433 for the default instance; a named instance has its own "
	 "port, shown in SQL Server Configuration Manager)."},

	{"time", "ntp_servers", APF_CFG_LIST, OFF(time.ntp_servers), NULL, 0, 0, NULL, NULL, v_hostname,
	 "NTP servers (names or addresses) the AMT infrastructure takes its time from; time.ntp asks each for the "
	 "time (NTP mode 3, UDP 123)."},
	{"time", "warn_offset_seconds", APF_CFG_INT, OFF(time.warn_offset_seconds), "60", 1, 86400, NULL, NULL, NULL,
	 "Warn when a time server's clock differs from the reference by more than this."},
	{"time", "max_offset_seconds", APF_CFG_INT, OFF(time.max_offset_seconds), "300", 1, 86400, NULL, NULL, NULL,
	 "Fail when a time server's clock differs from the reference by more than this: Kerberos' default maximum "
	 "tolerance for computer clock synchronization is 5 minutes."},
	{"time", "query_domain_controllers", APF_CFG_BOOL, OFF(time.query_domain_controllers), "yes", 0, 0, NULL, NULL,
	 NULL, "Also ask the domain controllers (as ad.ldap finds them) for the time: domain members take theirs from "
	 "the DCs."},
	{.section = NULL},
};

static size_t n_keys(void)
{
	size_t n = 0;

	while (apf_cfg_keys[n].section)
		n++;
	return n;
}

const struct apf_cfg_key *apf_cfg_key_find(const char *dotted)
{
	const char *dot = strchr(dotted, '.');

	if (!dot)
		return NULL;
	for (const struct apf_cfg_key *k = apf_cfg_keys; k->section; k++) {
		if (strlen(k->section) == (size_t)(dot - dotted) && strncmp(k->section, dotted, dot - dotted) == 0 &&
		    strcmp(k->name, dot + 1) == 0)
			return k;
	}
	return NULL;
}

bool apf_config_is_set(const struct apf_config *cfg, const char *dotted)
{
	const struct apf_cfg_key *k = apf_cfg_key_find(dotted);

	return k && cfg->is_set[k - apf_cfg_keys];
}

bool apf_strlist_has(const struct apf_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	}
	return false;
}

static void strlist_add(struct apf_strlist *l, const char *s)
{
	l->v = apf_xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
	l->v[l->n++] = apf_xstrdup(s);
	l->v[l->n] = NULL;
}

static void strlist_clear(struct apf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

/*
 * A path key must name a regular file (or the intermediate store's directory):
 * a FIFO, socket or device there would block or never end the read, and some
 * of these files are opened inside libraries (the CA bundle by libldap and
 * OpenSSL) where the project's reader cannot refuse them. A file that does not
 * exist yet is the check's to report. stat() never blocks on a FIFO.
 */
static const char *path_kind_problem(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return NULL;
	return "is not a regular file (a FIFO, socket or device)";
}

/*
 * Stores `value` into the field of key `k`. Returns NULL, or a message saying
 * what is wrong with the value (caller frees).
 */
static char *set_value(struct apf_config *cfg, const struct apf_cfg_key *k, const char *value)
{
	char *field = (char *)cfg + k->offset;
	const char *why;

	switch (k->type) {
	case APF_CFG_STRING:
	case APF_CFG_PATH:
	case APF_CFG_CHOICE:
		if (k->type == APF_CFG_CHOICE && !choice_ok(k->choices, value))
			return apf_xasprintf("must be one of %s", k->choices);
		if (k->validate && (why = k->validate(value)))
			return apf_xasprintf("'%s' %s", value, why);
		if (k->type == APF_CFG_PATH && (why = path_kind_problem(value)))
			return apf_xasprintf("'%s' %s", value, why);
		free(*(char **)field);
		*(char **)field = apf_xstrdup(value);
		return NULL;
	case APF_CFG_INT: {
		char *end;
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end)
			return apf_xasprintf("'%s' is not a whole number", value);
		if (v < k->min || v > k->max)
			return apf_xasprintf("%ld is out of range (%d to %d)", v, k->min, k->max);
		*(int *)field = (int)v;
		return NULL;
	}
	case APF_CFG_BOOL:
		if (parse_bool(value, (bool *)field))
			return apf_xasprintf("'%s' is not yes or no", value);
		return NULL;
	case APF_CFG_LIST: {
		struct apf_strlist *l = (struct apf_strlist *)field;
		char *copy = apf_xstrdup(value), *save = NULL, *msg = NULL;
		for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			if (k->validate && (why = k->validate(tok))) {
				msg = apf_xasprintf("'%s' %s", tok, why);
				break;
			}
			strlist_add(l, tok);
		}
		free(copy);
		return msg;
	}
	}
	return apf_xstrdup("has an unknown type");
}

struct parse_state {
	struct apf_config *cfg;
	const char *name;
	char *err; /* first error, without location (inih reports the line) */
};

/*
 * A key or section name as it may be shown on a terminal: every byte outside
 * printable ASCII as \xNN. Names in the table are plain ASCII, so only an
 * unknown name (whatever the file holds: ESC sequences, C1 controls, bidi
 * characters) is ever changed. Caller frees.
 */
static char *name_for_message(const char *s)
{
	struct apf_buf b = {0};

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '\\')
			apf_buf_addf(&b, "\\x%02x", *p);
		else
			apf_buf_add(&b, (const char *)p, 1);
	}
	return apf_buf_steal(&b);
}

static int on_pair(void *user, const char *section, const char *name_raw, const char *value)
{
	struct parse_state *ps = user;
	const struct apf_cfg_key *k = NULL;
	char *why = NULL, *name = NULL;
	size_t idx;
	int ok = 0;

	if (ps->err)
		return 1; /* keep only the first error: inih returns its line */
	/* Every message below names the key; a known key is printed as is. */
	name = name_for_message(name_raw);
	for (const struct apf_cfg_key *p = apf_cfg_keys; p->section; p++) {
		if (strcmp(p->section, section) == 0 && strcmp(p->name, name_raw) == 0) {
			k = p;
			break;
		}
	}
	if (!k) {
		bool known_section = false;
		for (const struct apf_cfg_key *p = apf_cfg_keys; p->section; p++)
			known_section |= strcmp(p->section, section) == 0;
		if (!*section) {
			ps->err = apf_xasprintf("'%s' is outside any section (start with [site], [dns], ...)", name);
		} else if (!known_section) {
			char *sect = name_for_message(section);
			ps->err = apf_xasprintf("unknown section [%s] (key '%s')", sect, name);
			free(sect);
		} else if (strstr(name, "password") || strstr(name, "secret")) {
			ps->err = apf_xasprintf("unknown key '%s' in [%s]: secrets are never read from the config file; "
						"use a *_file key or the environment (see docs/config.md)",
						name, section);
		} else {
			ps->err = apf_xasprintf("unknown key '%s' in [%s]", name, section);
		}
		goto out;
	}
	idx = (size_t)(k - apf_cfg_keys);
	if (ps->cfg->is_set[idx] && k->type != APF_CFG_LIST) {
		ps->err = apf_xasprintf("key '%s' in [%s] is given twice", name, section);
		goto out;
	}
	if (!apf_str_is_clean(value)) {
		ps->err = apf_xasprintf("key '%s' in [%s] has a control character in its value", name, section);
		goto out;
	}
	if (!*value) {
		ps->err = apf_xasprintf("key '%s' in [%s] has no value", name, section);
		goto out;
	}
	why = set_value(ps->cfg, k, value);
	if (why) {
		ps->err = apf_xasprintf("bad value for '%s' in [%s]: %s", name, section, why);
		free(why);
		goto out;
	}
	ps->cfg->is_set[idx] = true;
	ok = 1;
out:
	free(name);
	return ok;
}

struct apf_config *apf_config_new_default(void)
{
	struct apf_config *cfg = apf_xcalloc(1, sizeof(*cfg));

	cfg->is_set = apf_xcalloc(n_keys() + 1, sizeof(*cfg->is_set));
	for (const struct apf_cfg_key *k = apf_cfg_keys; k->section; k++) {
		if (k->def) {
			char *why = set_value(cfg, k, k->def);
			/* A bad default is a bug in the table; the unit test catches it. */
			free(why);
		}
	}
	return cfg;
}

/* inih's line buffer (INI_MAX_LINE in its build; 200 in Debian's). */
#define INI_LINE_LIMIT 200

/*
 * Finds the first line inih would reject on syntax alone, so that its line
 * number and our message always agree (inih reports the first error's line,
 * which may not be the line our key handler complained about). Also refuses
 * lines longer than inih's buffer, which it would cut and read as two lines.
 * Returns the 1-based line and sets *why, or 0 when every line is well formed.
 */
static int syntax_error_line(const char *text, const char **why)
{
	bool had_key = false;

	for (int line = 1; text; line++) {
		size_t len = strcspn(text, "\n");
		const char *p = text;

		if (len >= INI_LINE_LIMIT - 2) {
			*why = "line too long";
			return line;
		}
		while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == text + len || *p == ';' || *p == '#') {
			/* blank or comment */
		} else if (*p == '[') {
			if (!memchr(p, ']', (size_t)(text + len - p))) {
				*why = "a section header without its closing ']'";
				return line;
			}
			had_key = false;
		} else if (p != text && had_key) {
			/* inih would pass it on as another value of the key above: a
			 * duplicate-key error for a single-valued key, a silent extra
			 * entry for a list. Neither is what an indented line means. */
			*why = "an indented line is read as a continuation of the key above; remove the "
			       "indentation (repeat the key to add list entries)";
			return line;
		} else if (!memchr(p, '=', (size_t)(text + len - p)) && !memchr(p, ':', (size_t)(text + len - p))) {
			*why = "not a [section] or key = value line";
			return line;
		} else {
			had_key = true;
		}
		text = text[len] ? text + len + 1 : NULL;
	}
	return 0;
}

int apf_config_parse(const char *text, const char *name, struct apf_config **out, char **err_out)
{
	struct parse_state ps = {.cfg = apf_config_new_default(), .name = name};
	const char *why = NULL;
	int line, rc = 0;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	line = syntax_error_line(text, &why);
	if (line) {
		if (err_out && strcmp(why, "line too long") == 0)
			*err_out = apf_xasprintf("%s:%d: line longer than %d characters: split a long list over several "
						 "lines by repeating the key",
						 name, line, INI_LINE_LIMIT - 3);
		else if (err_out)
			*err_out = apf_xasprintf("%s:%d: %s", name, line, why);
		rc = -EINVAL;
		goto out;
	}
	line = ini_parse_string(text, on_pair, &ps);
	if (line != 0) {
		if (err_out) {
			if (line < 0)
				*err_out = apf_xasprintf("%s: cannot parse", name);
			else if (ps.err)
				*err_out = apf_xasprintf("%s:%d: %s", name, line, ps.err);
			else
				*err_out = apf_xasprintf("%s:%d: not a [section] or key = value line", name, line);
		}
		rc = -EINVAL;
		goto out;
	}
	ps.cfg->path = apf_xstrdup(name);
	*out = ps.cfg;
	ps.cfg = NULL;
out:
	free(ps.err);
	apf_config_free(ps.cfg);
	return rc;
}

int apf_config_load(const char *path, struct apf_config **out, char **err_out)
{
	unsigned char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = apf_read_file(path, CONFIG_MAX_BYTES, &text, &len);
	if (rc) {
		if (err_out)
			*err_out = apf_xasprintf("%s: cannot read config file: %s", path,
						 apf_file_strerror(rc, CONFIG_MAX_BYTES));
		goto out;
	}
	if (memchr(text, '\0', len)) {
		if (err_out)
			*err_out = apf_xasprintf("%s: not a text file (contains NUL bytes)", path);
		rc = -EINVAL;
		goto out;
	}
	rc = apf_config_parse((const char *)text, path, out, err_out);
out:
	free(text);
	return rc;
}

void apf_config_free(struct apf_config *cfg)
{
	if (!cfg)
		return;
	for (const struct apf_cfg_key *k = apf_cfg_keys; k->section; k++) {
		char *field = (char *)cfg + k->offset;
		if (k->type == APF_CFG_LIST)
			strlist_clear((struct apf_strlist *)field);
		else if (k->type == APF_CFG_STRING || k->type == APF_CFG_PATH || k->type == APF_CFG_CHOICE)
			free(*(char **)field);
	}
	free(cfg->is_set);
	free(cfg->path);
	free(cfg);
}

char *apf_config_digest(const struct apf_config *cfg)
{
	struct apf_buf b = {0};
	char hex[65], *text;

	/* Only values from the file, in table order: the same settings always give the
	 * same digest. No secret can be in here: secrets live only in *_file targets. */
	for (const struct apf_cfg_key *k = apf_cfg_keys; k->section; k++) {
		const char *field = (const char *)cfg + k->offset;
		if (!cfg->is_set[k - apf_cfg_keys])
			continue;
		apf_buf_addf(&b, "%s.%s=", k->section, k->name);
		switch (k->type) {
		case APF_CFG_LIST: {
			const struct apf_strlist *l = (const struct apf_strlist *)field;
			for (size_t i = 0; i < l->n; i++)
				apf_buf_addf(&b, "%s%s", i ? "," : "", l->v[i]);
			break;
		}
		case APF_CFG_INT:
			apf_buf_addf(&b, "%d", *(const int *)field);
			break;
		case APF_CFG_BOOL:
			apf_buf_addf(&b, "%s", *(const bool *)field ? "yes" : "no");
			break;
		default:
			apf_buf_addf(&b, "%s", *(char *const *)field);
		}
		apf_buf_add(&b, "\n", 1);
	}
	text = apf_buf_steal(&b);
	apf_sha256_hex(text, strlen(text), hex);
	free(text);
	return apf_xstrdup(hex);
}
