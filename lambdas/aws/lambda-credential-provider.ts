/**
 * What the Lambda bundles use in place of `@aws-sdk/credential-provider-node` (esbuild `alias`,
 * lib/handler-bundling.ts). Nothing imports this module by name: every SDK client's default
 * configuration imports `defaultProvider` from the Node chain, and the bundler swaps the chain for
 * this file.
 *
 * Why it is safe: a Node.js Lambda function gets its execution role's credentials in
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the Node chain's first link is
 * exactly this environment provider, so there the rest of the chain (SSO, ini files, process, web
 * identity, container and instance metadata, with the STS/SSO clients they carry) never runs. It is
 * about 130 KiB of every bundle. Tests, the CLI and the demo are not bundled and keep the full chain.
 * The one Lambda feature that hands out credentials otherwise is SnapStart (through the container
 * endpoint, AWS_CONTAINER_CREDENTIALS_FULL_URI); our functions do not use it, and
 * test/infra/shipped-bundles.test.ts fails if one ever does.
 *
 * If the environment holds no credentials the SDK call fails with the provider's own
 * CredentialsProviderError, as the full chain would after trying everything else.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';
// Type only: the package this module stands in for (the clients depend on it), to keep the shapes equal.
import type { defaultProvider as nodeChainProvider } from '@aws-sdk/credential-provider-node';

/** Same name and call shape as the Node chain's export, so the SDK's runtime config links to it. */
export const defaultProvider = ((init: FromEnvInit = {}): ReturnType<typeof fromEnv> => fromEnv(init)) satisfies typeof nodeChainProvider;
