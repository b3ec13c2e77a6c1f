/* SPDX-License-Identifier: MIT */
/*
 * cert.intermediate-store: audits an export of a server's Intermediate
 * Certification Authorities store (a directory of PEM, DER or PKCS#7 files).
 * The field notes' outage: the provisioning server kept an expired VeriSign
 * intermediate next to (or instead of) the current one with the same subject
 * and key; Windows built the chain through the expired one and AMT refused the
 * TLS handshake. Both situations are reported: an expired twin of a valid
 * intermediate (a chain builder may pick either) and an expired certificate
 * that issues a certificate on the provisioning chain's path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "pki.h"
#include "pki_check.h"

#define STORE_MAX_FILES 1000
#define STORE_MAX_CERTS 4096

static const char remedy_delete[] =
	"On the setup and configuration server, open the computer account's certificates (certlm.msc) > "
	"Intermediate Certification Authorities > Certificates, delete the expired certificate (match the serial and "
	"thumbprint), import the current intermediate from the CA, then restart the provisioning service so it "
	"rebuilds the chain";

static const struct apf_code codes[] = {
	{"STORE_UNREADABLE", APF_ERROR, "The intermediate store directory cannot be read",
	 "Check [provisioning] intermediate_store and the permissions of the directory"},
	{"STORE_EMPTY", APF_WARN, "No certificate was found in the intermediate store directory",
	 "Export the Intermediate Certification Authorities store (certlm.msc, or certutil -store CA) into it"},
	{"STORE_FILE_SKIPPED", APF_INFO, "Files in the directory that hold no certificate were skipped", NULL},
	{"STORE_EXPIRED_ON_PATH", APF_FAIL,
	 "An expired intermediate in the store issues a certificate on the provisioning chain's path and the store "
	 "has no valid replacement: the chain the server sends AMT is expired, and the TLS handshake fails",
	 remedy_delete},
	{"STORE_EXPIRED_TWIN", APF_WARN,
	 "An expired intermediate shares subject and key with a valid one (evidence `issues` when it can issue the "
	 "provisioning chain): a chain builder may pick the expired one and hand AMT an expired chain",
	 remedy_delete},
	{"STORE_EXPIRED_UNUSED", APF_INFO, "An expired certificate in the store is not on the provisioning path",
	 "Delete it from the store to keep chain building predictable"},
	{"STORE_PATH_UNCHECKED", APF_INFO,
	 "The provisioning certificate is not configured or could not be loaded, so the store was not compared with "
	 "its chain",
	 "Set [provisioning] certificate (and its password) to check the provisioning path"},
	{"STORE_OK", APF_PASS, "No expired certificate in the store can end up on the provisioning chain", NULL},
	{0},
};

static const char *const requires_keys[] = {"provisioning.intermediate_store", NULL};

struct store {
	struct apf_cert **v;
	size_t n;
	size_t files, skipped;
	char skipped_names[512];
};

static bool store_has(const struct store *s, const struct apf_cert *c)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->sha256_hex, c->sha256_hex))
			return true;
	return false;
}

static int load_store(const char *dir, struct store *s, char **err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		*err = apf_xasprintf("cannot open %s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)) && s->files < STORE_MAX_FILES) {
		char path[4096];
		struct stat st;
		struct apf_cert **certs = NULL;
		size_t n = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		s->files++;
		if (apf_certs_from_file(path, &certs, &n, NULL) != 0) {
			size_t off = strlen(s->skipped_names);
			s->skipped++;
			if (off + 2 < sizeof(s->skipped_names))
				snprintf(s->skipped_names + off, sizeof(s->skipped_names) - off, "%s%s", off ? ", " : "",
					 e->d_name);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (s->n < STORE_MAX_CERTS && !store_has(s, certs[i])) {
				s->v = apf_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
				s->v[s->n++] = certs[i];
			} else {
				apf_cert_free(certs[i]);
			}
		}
		free(certs);
	}
	closedir(d);
	return 0;
}

/* A valid certificate with the same subject and key, or NULL. */
static const struct apf_cert *valid_twin(const struct store *s, const struct apf_cert *c, time_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct apf_cert *o = s->v[i];
		if (o != c && o->not_before <= now && now <= o->not_after && apf_cert_subject_eq(o, c) &&
		    apf_cert_same_key(o, c))
			return o;
	}
	return NULL;
}

/* The index on `ch` of a certificate that `c` could issue, or 0 when none (the leaf is never issued by the store). */
static size_t issues_on_path(const struct apf_chain *ch, const struct apf_cert *c)
{
	for (size_t i = 0; i < ch->n; i++)
		if (!ch->v[i]->self_signed && apf_cert_issued_by(ch->v[i], c))
			return i + 1;
	return 0;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *dir = cfg->provisioning.intermediate_store;
	struct store s = {0};
	struct apf_pki_bundle *b = NULL;
	struct apf_cert **pool = NULL;
	struct apf_chain ch = {0};
	struct apf_finding *f;
	char *err = NULL;
	time_t now = time(NULL);
	size_t expired = 0, on_path = 0;
	bool have_chain = false;

	apf_ctx_step(ctx, "reading %s", dir);
	if (load_store(dir, &s, &err)) {
		f = apf_report(ctx, APF_ERROR, "STORE_UNREADABLE", "%s", err);
		apf_evidence(f, "directory", "%s", dir);
		goto out;
	}
	if (s.skipped) {
		f = apf_report(ctx, APF_INFO, "STORE_FILE_SKIPPED", "%zu of %zu files in %s hold no certificate", s.skipped,
			       s.files, dir);
		apf_evidence(f, "files", "%s", s.skipped_names);
	}
	if (s.n == 0) {
		f = apf_report(ctx, APF_WARN, "STORE_EMPTY", "No certificate in %s (%zu files)", dir, s.files);
		apf_evidence(f, "directory", "%s", dir);
		goto out;
	}

	/* The provisioning chain as a builder on that server would see it: the
	 * PFX's own certificates plus the store. */
	if (cfg->provisioning.certificate) {
		free(err);
		err = NULL;
		if (apf_pki_load_configured(ctx, &b, &err) == 0) {
			pool = apf_xcalloc(b->n + s.n, sizeof(*pool));
			memcpy(pool, b->certs, b->n * sizeof(*pool));
			memcpy(pool + b->n, s.v, s.n * sizeof(*pool));
			apf_chain_build(b->certs[b->leaf], pool, b->n + s.n, now, &ch);
			have_chain = true;
		}
	}
	if (!have_chain) {
		f = apf_report(ctx, APF_INFO, "STORE_PATH_UNCHECKED", "The store was not compared with the provisioning "
								      "chain: %s",
			       cfg->provisioning.certificate ? (err ? err : "cannot load it")
							     : "[provisioning] certificate is not set");
		if (cfg->provisioning.certificate)
			apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
	}

	for (size_t i = 0; i < s.n; i++) {
		const struct apf_cert *c = s.v[i], *twin;
		size_t at;
		char t[32];

		if (now <= c->not_after)
			continue;
		expired++;
		twin = valid_twin(&s, c, now);
		at = have_chain ? issues_on_path(&ch, c) : 0;
		/* With no valid twin the expired certificate is the only way up: the
		 * chain is broken for sure. With a twin it depends on which one the
		 * server's builder picks (the field notes' server picked the expired one). */
		if (at && !twin) {
			char *pos = apf_chain_position(&ch, at - 1);
			f = apf_report(ctx, APF_FAIL, "STORE_EXPIRED_ON_PATH",
				       "Expired %s (expired %s) issues %s %s of the provisioning chain", c->subject,
				       apf_pki_time_str(c->not_after, t, sizeof(t)), pos, ch.v[at - 1]->subject);
			apf_cert_evidence(f, c, NULL);
			apf_evidence(f, "issues", "%s %s", pos, ch.v[at - 1]->subject);
			apf_evidence(f, "chain_uses", "%s", at < ch.n && ch.v[at] == c ? "this expired certificate"
											: "another issuer");
			on_path++;
			free(pos);
		} else if (twin) {
			f = apf_report(ctx, APF_WARN, "STORE_EXPIRED_TWIN",
				       "Expired %s (serial %s, expired %s) has the same subject and key as a valid one%s",
				       c->subject, c->serial_hex, apf_pki_time_str(c->not_after, t, sizeof(t)),
				       at ? " and can issue the provisioning chain" : "");
			apf_cert_evidence(f, c, NULL);
			if (at) {
				char *pos = apf_chain_position(&ch, at - 1);
				apf_evidence(f, "issues", "%s %s", pos, ch.v[at - 1]->subject);
				free(pos);
			}
		} else {
			f = apf_report(ctx, APF_INFO, "STORE_EXPIRED_UNUSED", "Expired %s is not on the provisioning path",
				       c->subject);
			apf_cert_evidence(f, c, NULL);
			continue;
		}
		if (twin) {
			apf_evidence(f, "valid_twin_serial", "%s", twin->serial_hex);
			apf_evidence(f, "valid_twin_sha1", "%s", twin->sha1_hex);
			apf_evidence(f, "valid_twin_not_after", "%s", apf_pki_time_str(twin->not_after, t, sizeof(t)));
		} else {
			apf_evidence(f, "valid_twin", "none in the store: import the current intermediate");
		}
	}
	if (!on_path) {
		f = apf_report(ctx, APF_PASS, "STORE_OK",
			       "%zu certificates in %s, %zu expired; %s", s.n, dir, expired,
			       have_chain ? "the provisioning chain can be built without an expired one"
					  : "the provisioning path was not checked");
		apf_evidence(f, "certificates", "%zu", s.n);
		apf_evidence(f, "expired", "%zu", expired);
		apf_evidence(f, "files", "%zu", s.files);
		if (have_chain)
			apf_evidence(f, "chain_length", "%zu", ch.n);
	}
out:
	apf_chain_clear(&ch);
	free(pool);
	apf_pki_bundle_free(b);
	apf_certs_free(s.v, s.n);
	free(err);
	return 0;
}

const struct apf_check apf_check_cert_intermediate_store = {
	.id = "cert.intermediate-store",
	.title = "Intermediate CA store",
	.summary = "Audits an export of the setup server's Intermediate CA store for expired intermediates that share "
		   "subject and key with a valid one, or that issue a certificate of the provisioning chain.",
	.requires_keys = requires_keys,
	.timeout_ms = 5000,
	.codes = codes,
	.run = run,
};
