import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, Logger, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiKeyEntry, CONFIG, type LumenConfig, Scope, hashSecret } from '@lumen/config';
import { ProblemException } from './problem.js';
import { keyRateLimit } from './rate-limit.js';

export const API_KEY_HEADER = 'x-api-key';
const PUBLIC = 'lumen:public';
const SCOPE = 'lumen:scope';
/** @nestjs/swagger's metadata key for an operation's security requirements (DECORATORS.API_SECURITY). */
const SWAGGER_SECURITY = 'swagger/apiSecurity';

/** The caller, attached to the request by the guard. */
export type Principal = { name: string; scopes: Scope[]; admin: boolean };

/**
 * No key needed (health probes). On a controller class, the OpenAPI document then gives its
 * operations `security: []` (no key) instead of the document-wide API-key requirement; Swagger
 * drops an empty list set on a single method, so mark whole controllers.
 */
export const Public = () => applyDecorators(SetMetadata(PUBLIC, true), SetMetadata(SWAGGER_SECURITY, []));

/**
 * The route needs a key holding this scope (admin keys hold every scope). The OpenAPI document
 * names it per operation as `x-required-scope` (routes without one take any key).
 */
export const RequireScope = (scope: Scope) => applyDecorators(SetMetadata(SCOPE, scope), ApiExtension('x-required-scope', scope));

/** The authenticated caller of this request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});

/** Jobs and collections of other keys are invisible unless the caller is admin. */
export function canSee(principal: Principal, owner: string): boolean {
  return principal.admin || principal.name === owner;
}

@Injectable()
export class ApiKeyService {
  private readonly logger = new Logger('ApiKeys');
  private readonly keys: ApiKeyEntry[];

  constructor(@Inject(CONFIG) config: LumenConfig) {
    this.keys = config.apiKeys.length ? config.apiKeys : [this.generatedAdminKey(config.dataDir)];
  }

  /** With API_KEYS unset: an admin key made on first start, kept in DATA_DIR/admin.key (mode 600). */
  private generatedAdminKey(dataDir: string): ApiKeyEntry {
    const file = path.join(dataDir, 'admin.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      const secret = `lmn_${randomBytes(24).toString('base64url')}`;
      fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      // Printed once, on the start that creates it; later starts only say where it is.
      process.stdout.write(`\n  Lumen created an admin API key (stored in ${file}):\n\n    X-API-Key: ${secret}\n\n`);
    } else {
      this.logger.log(`API_KEYS unset: using the admin key in ${file}`);
    }
    return { name: 'admin', secretSha256: hashSecret(fs.readFileSync(file, 'utf8').trim()), scopes: [Scope.Admin] };
  }

  authenticate(secret: string): Principal | null {
    const digest = Buffer.from(hashSecret(secret), 'hex');
    for (const key of this.keys) {
      if (timingSafeEqual(digest, Buffer.from(key.secretSha256, 'hex'))) {
        return { name: key.name, scopes: key.scopes, admin: key.scopes.includes(Scope.Admin) };
      }
    }
    return null;
  }
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly perMinute: number;
  private limit?: (request: FastifyRequest) => Promise<number>;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CONFIG) config: LumenConfig,
  ) {
    this.perMinute = config.rateLimitPerMinute;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const header = request.headers[API_KEY_HEADER];
    const secret = Array.isArray(header) ? header[0] : header;
    if (!secret) throw new ProblemException(HttpStatus.UNAUTHORIZED, 'missing-api-key', `Send an API key in the ${API_KEY_HEADER} header`);
    const principal = this.keys.authenticate(secret);
    if (!principal) throw new ProblemException(HttpStatus.UNAUTHORIZED, 'unknown-api-key', 'The API key is not recognised');
    request.principal = principal; // the rate limit counts per principal
    const wait = await this.rateLimited(request);
    if (wait > 0) {
      throw new ProblemException(HttpStatus.TOO_MANY_REQUESTS, 'rate-limited', `Key ${principal.name} is over its rate limit; retry in ${wait} s`, { retryAfterSeconds: wait });
    }
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE, targets);
    if (scope && !principal.admin && !principal.scopes.includes(scope)) {
      throw new ProblemException(HttpStatus.FORBIDDEN, 'missing-scope', `This key (${principal.name}) lacks the "${scope}" scope`);
    }
    return true;
  }

  /** 0 when the key may go on (or limits are off), else the seconds to wait. */
  private rateLimited(request: FastifyRequest): Promise<number> | number {
    if (this.perMinute <= 0) return 0;
    this.limit ??= keyRateLimit(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
    return this.limit(request);
  }
}
