/* SPDX-License-Identifier: MIT */
/*
 * Configuration: one INI file (inih), sections site, dns, dhcp, ad, ca,
 * provisioning, amt. Every key is in one table (config.c) with its type and
 * documentation; docs/config.md and docs/example.conf are kept in sync with it
 * by a unit test. Secrets never appear here: only the *_file paths.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct apf_strlist {
	char **v;
	size_t n;
};

struct apf_config {
	char *path; /* file it was read from, or NULL for the built-in empty config */

	struct {
		char *name;
		struct apf_strlist enable; /* intrusive checks the admin opted into */
		char *waivers;             /* waiver file (src/waiver.h), or NULL */
	} site;

	struct {
		struct apf_strlist servers; /* DNS servers AMT clients use (IP addresses) */
		char *tsig_key_file;        /* BIND key-file format */
		char *hosts_file;           /* host list for dns.host-registration */
		int window;                 /* queries in flight for fleet audits */
		int rate_limit;             /* queries per second per server, 0 = unlimited */
	} dns;

	struct {
		struct apf_strlist interfaces; /* every AMT client segment (wired and wireless) */
		char *mode; /* "inform" or "discover" */
		int listen_seconds;
		char *test_fqdn;
		int register_wait_seconds;
		struct apf_strlist expected_servers;
		struct apf_strlist wireless_interfaces; /* which of `interfaces` are wireless segments */
	} dhcp;

	struct {
		char *domain;
		struct apf_strlist domain_controllers;
		char *bind_dn;
		char *bind_password_file; /* secret lives in the file, or $AMT_PREFLIGHT_BIND_PASSWORD */
		char *ca_bundle;
		char *tls; /* "starttls", "ldaps", "none" */
	} ad;

	struct {
		struct apf_strlist templates;
		char *web_enrollment_url;
		int crl_warn_hours;
		struct apf_strlist enroll_accounts; /* who the setup server requests certificates as */
		char *enroll_user;          /* web enrollment login for ca.test-enrollment */
		char *enroll_password_file; /* secret lives in the file, or $AMT_PREFLIGHT_ENROLL_PASSWORD */
		char *enroll_auth;          /* "any", "negotiate", "ntlm", "basic" */
		char *web_ca_bundle;        /* PEM bundle for the web enrollment server's certificate */
		char *test_template;        /* template ca.test-enrollment requests; default: first of templates */
		char *test_fqdn;            /* name reserved for the test certificate */
	} ca;

	struct {
		char *certificate; /* PFX, PEM or DER */
		char *key;         /* PEM/DER private key when not in the PFX */
		char *chain;       /* extra PEM certificates */
		char *password_file; /* secret lives in the file, or $AMT_PREFLIGHT_PFX_PASSWORD */
		struct apf_strlist server_addresses; /* the setup and configuration server(s) */
		int hello_port;
		char *intermediate_store;
		int warn_days;
		bool check_revocation;
	} provisioning;

	struct {
		struct apf_strlist domain_suffixes;
		struct apf_strlist generations; /* AMT/CSME major versions, e.g. "11", "16" */
		struct apf_strlist device_hashes; /* files */
		struct apf_strlist tls_hosts;     /* FQDNs amt.tls probes; empty = the names of [dns] hosts_file */
		int tls_port;                     /* AMT's TLS port */
		int tls_max_hosts;                /* hosts amt.tls probes per run */
		int tls_window;                   /* handshakes in flight */
		bool tls_redirection;             /* also probe the redirection TLS port (16995) */
		struct apf_strlist activation;    /* activation profiles (src/amt_profile.h); empty = not declared */
		struct apf_strlist device_facts;  /* files or directories: rpc amtinfo/status JSON, hash lists */
		char *suffix_source;              /* where AMT gets its DNS suffix: dhcp, mebx, usb; NULL = not declared */
	} amt;

	struct {
		struct apf_strlist endpoints; /* activation/management endpoints as URLs (wss://, https://, tls://, tcp://) */
		char *ca_bundle;            /* PEM roots the endpoints' certificates must chain to */
	} activation;

	struct {
		struct apf_strlist mps;                /* MPS names (host[:port]) devices are given */
		int port;                              /* CIRA port when a name has none */
		char *ca_bundle;                       /* the MPS's root (and intermediates), PEM */
		struct apf_strlist public_dns_servers; /* resolvers outside the enterprise, for devices away from it */
		struct apf_strlist home_domains;       /* AMT environment-detection domains */
	} cira;

	struct {
		char *sql_server;  /* Intel SCS database server: host name or address */
		int sql_port;
	} scs;

	struct {
		struct apf_strlist ntp_servers; /* names or addresses */
		int warn_offset_seconds;
		int max_offset_seconds;          /* Kerberos' maximum tolerance */
		bool query_domain_controllers;
	} time;

	bool *is_set; /* indexed like the key table: set in the file (not defaulted) */
};

enum apf_cfg_type {
	APF_CFG_STRING,
	APF_CFG_PATH,    /* a file or directory; existence is checked by the check that reads it */
	APF_CFG_LIST,    /* comma and/or space separated */
	APF_CFG_INT,
	APF_CFG_BOOL,    /* yes/no, true/false, on/off, 1/0 */
	APF_CFG_CHOICE,  /* one of `choices` */
};

struct apf_cfg_key {
	const char *section;
	const char *name;
	enum apf_cfg_type type;
	size_t offset;         /* into struct apf_config */
	const char *def;       /* default as text, or NULL */
	int min, max;          /* for INT */
	const char *choices;   /* for CHOICE: "a|b|c" */
	const char *env;       /* for *_file secrets: the environment variable alternative */
	/* For LIST (each item) and STRING: NULL or a validator returning NULL when fine,
	 * else a static string saying what is wrong. */
	const char *(*validate)(const char *value);
	const char *doc;       /* one paragraph for docs/config.md and `explain` */
};

/* The key table, terminated by an entry with section == NULL. */
extern const struct apf_cfg_key apf_cfg_keys[];

/*
 * Reads `path` into a new config. On a bad line returns -EINVAL and sets
 * *err_out to "FILE:LINE: message" (caller frees). -errno for I/O errors
 * (message names the file). *out stays NULL on failure.
 */
int apf_config_load(const char *path, struct apf_config **out, char **err_out);
/* Parses INI text; `name` is used in messages. */
int apf_config_parse(const char *text, const char *name, struct apf_config **out, char **err_out);
/* A config with every default and nothing set. */
struct apf_config *apf_config_new_default(void);
void apf_config_free(struct apf_config *cfg);

/* Finds "section.key" in the table; NULL when unknown. */
const struct apf_cfg_key *apf_cfg_key_find(const char *dotted);
/* True when "section.key" was given a value in the file. */
bool apf_config_is_set(const struct apf_config *cfg, const char *dotted);

/* SHA-256 hex of the canonical non-secret config (key=value lines, sorted). Caller frees. */
char *apf_config_digest(const struct apf_config *cfg);

/* True when `s` is in the list (case-insensitive). */
bool apf_strlist_has(const struct apf_strlist *l, const char *s);
