/**
 * Throwaway ECDSA P-256 certificates for the mutual-TLS baseline, made with the `openssl` command
 * at bench time: a CA, a server certificate for 127.0.0.1 and a client certificate, each valid
 * for one day. Nothing leaves the scratch directory; nothing is fetched.
 *
 * @module
 */

/** PEM text of the baseline's certificates and keys. */
export interface TlsMaterial {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Directory holding the same files, for the server process. */
  dir: string;
}

/** Days the throwaway certificates are valid. */
const CERT_DAYS = 1;

async function openssl(dir: string, args: string[]): Promise<void> {
  let output;
  try {
    output = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("openssl is needed for the TLS baseline: apt-get install openssl");
    }
    throw error;
  }
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`openssl ${args[0]} failed: ${text}`);
  }
}

async function newKeyAndRequest(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
}

async function signWithCa(dir: string, name: string, extensions: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    String(CERT_DAYS),
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
}

/**
 * Makes a CA, a server and a client certificate (ECDSA P-256, X.509 v3) in `dir`.
 *
 * @param dir An empty scratch directory.
 * @returns The PEM texts.
 * @throws {Error} When openssl is missing or fails.
 */
export async function makeTlsMaterial(dir: string): Promise<TlsMaterial> {
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    String(CERT_DAYS),
    "-subj",
    "/CN=bench-ca",
  ]);
  await newKeyAndRequest(dir, "server", "/CN=bench-bank");
  await signWithCa(
    dir,
    "server",
    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  await newKeyAndRequest(dir, "client", "/CN=bench-atm");
  await signWithCa(dir, "client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    caCert: await read("ca.crt"),
    serverCert: await read("server.crt"),
    serverKey: await read("server.key"),
    clientCert: await read("client.crt"),
    clientKey: await read("client.key"),
    dir,
  };
}
