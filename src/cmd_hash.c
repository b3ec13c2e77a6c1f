/* SPDX-License-Identifier: MIT */
/*
 * `amt-preflight hash FILE...`: every certificate's SHA-1, SHA-256 and SHA-384
 * (newer firmware stores root hashes as SHA-384: rpc-go compareCertHashes) in
 * the forms the AMT tools take:
 *   - lowercase continuous hex: rpc-go/RPS/MeshCentral compare hashes this way
 *     (amtinfo --cert prints it, RPS lowercases before comparing);
 *   - uppercase colon-separated: what `openssl x509 -fingerprint` and many
 *     CA portals show;
 *   - uppercase continuous hex: the Windows "thumbprint" (certutil, ConfigMgr's
 *     amtopmgr.log "provisioning certificate with the thumbprint ...");
 *   - uppercase hex in groups of four separated by hyphens: what the MEBx
 *     "Manage Certificate Hashes" screen asks for (the MEBx screen shown in the
 *     Open AMT Cloud Toolkit documentation).
 * Older MEBx takes only a SHA-1 hash (Intel article 000059996: a SHA-256
 * string is too long for it), and AMT 16+ MEBx no longer offers the option at
 * all (USB provisioning only); the note printed says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amt_rules.h"
#include "cmd_hash.h"
#include "pki.h"
#include "pki_roots.h"

static void print_forms(const char *label, const char *hex)
{
	char *mebx = apf_amt_mebx_hash_new(hex);
	size_t n = strlen(hex);

	printf("  %-7s %s\n", label, hex);
	printf("  %-7s ", "");
	for (size_t i = 0; i < n; i += 2)
		printf("%s%c%c", i ? ":" : "", hex[i] >= 'a' ? hex[i] - 32 : hex[i],
		       hex[i + 1] >= 'a' ? hex[i + 1] - 32 : hex[i + 1]);
	printf("\n  %-7s ", "");
	for (size_t i = 0; i < n; i++)
		putchar(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	putchar('\n');
	if (mebx)
		printf("  %-7s %s (MEBx)\n", "", mebx);
	free(mebx);
}

static void print_cert(const struct apf_cert *c, size_t i, size_t n, bool leaf)
{
	const struct apf_amt_root *r = c->self_signed ? apf_amt_root_find(c->sha256_hex) : NULL;
	char nb[32], na[32];

	printf("certificate %zu of %zu%s%s\n", i + 1, n, leaf ? " (leaf)" : "",
	       c->self_signed ? " (self-signed root)" : "");
	printf("  subject %s\n", c->subject);
	printf("  issuer  %s\n", c->issuer);
	printf("  serial  %s\n", c->serial_hex);
	printf("  valid   %s .. %s\n", apf_pki_time_str(c->not_before, nb, sizeof(nb)),
	       apf_pki_time_str(c->not_after, na, sizeof(na)));
	print_forms("SHA-1", c->sha1_hex);
	print_forms("SHA-256", c->sha256_hex);
	print_forms("SHA-384", c->sha384_hex);
	if (c->self_signed) {
		if (r)
			printf("  AMT     built-in default root \"%s\" (firmware generations %s%s)\n", r->name,
			       r->generations, !strcmp(r->generations, "?") ? ": seen on recent devices" : "");
		else
			printf("  AMT     not a built-in AMT root: add its SHA-256 to each device (USB "
			       "provisioning on AMT 16+; MEBx only takes the SHA-1 on older firmware)\n");
	}
}

static int hash_file(const char *path, const char *password)
{
	struct apf_pki_bundle *b = NULL;
	char *err = NULL;
	int rc = apf_pki_load_files(path, NULL, NULL, password, &b, &err);

	if (rc) {
		fprintf(stderr, "amt-preflight hash: %s\n", err ? err : path);
		if (rc == -EKEYREJECTED)
			fputs("amt-preflight hash: set AMT_PREFLIGHT_PFX_PASSWORD to the PFX password\n", stderr);
		free(err);
		return rc;
	}
	printf("%s: %s, %zu certificate%s%s\n", path, b->format, b->n, b->n == 1 ? "" : "s",
	       b->has_key ? ", with private key" : "");
	for (size_t i = 0; i < b->n; i++)
		print_cert(b->certs[i], i, b->n, b->n > 1 && i == b->leaf);
	apf_pki_bundle_free(b);
	return 0;
}

int apf_cmd_hash(int argc, char **argv)
{
	const char *password = getenv("AMT_PREFLIGHT_PFX_PASSWORD");
	int bad = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			puts("usage: amt-preflight hash FILE...\n"
			     "Prints the SHA-1, SHA-256 and SHA-384 of every certificate in each PEM, DER, PKCS#7 or PFX\n"
			     "file: lowercase, colon-separated uppercase, as a Windows thumbprint and in the MEBx form\n"
			     "(uppercase, groups of four separated by hyphens). The PFX password is read from\n"
			     "$AMT_PREFLIGHT_PFX_PASSWORD. Exit status: 0, or 3 when a file could not be read.");
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (files++)
			putchar('\n');
		bad += hash_file(argv[i], password) != 0;
	}
	if (!files) {
		fputs("usage: amt-preflight hash FILE...\n", stderr);
		return 3;
	}
	return bad ? 3 : 0;
}
