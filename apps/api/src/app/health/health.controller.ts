import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult, type HealthIndicatorFunction, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { PrismaService } from '@lumen/database';
import { Public } from '@lumen/http';
import { ModelRegistry } from '@lumen/inference';

export enum CheckStatus {
  up = 'up',
  down = 'down',
}

export class ReadinessDto {
  @ApiProperty({ enum: CheckStatus, enumName: 'CheckStatus', example: CheckStatus.up })
  status: CheckStatus;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: Object.values(CheckStatus) } }, additionalProperties: true },
    example: { database: { status: 'up' }, models: { status: 'up', loaded: 6, total: 6 } },
    description: 'One entry per check (none for liveness), each with its status and details',
  })
  checks: Record<string, { status: CheckStatus; [detail: string]: unknown }>;
}

/** Health checks through @nestjs/terminus, answered in Lumen's `{status, checks}` shape. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly registry: ModelRegistry,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: 'The process is up' })
  @ApiOkResponse({ type: ReadinessDto, example: { status: 'up', checks: {} } })
  live(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessDto> {
    return this.run([], reply);
  }

  @Get('ready')
  @ApiOperation({ operationId: 'ready', summary: '200 when the database answers and every model is loaded; else 503 naming what failed' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ReadinessDto })
  ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessDto> {
    return this.run([() => this.database(), () => this.models()], reply);
  }

  /** The database answers a trivial query (no error text: it would name hosts and ports). */
  private async database() {
    const check = this.indicators.check('database');
    return (await this.prisma.isHealthy()) ? check.up() : check.down();
  }

  /** Every configured model loaded; the ones that failed, with their errors. */
  private models() {
    const models = this.registry.list();
    const failed = models.filter((m) => !m.ready).map((m) => ({ name: m.name, error: m.error }));
    const check = this.indicators.check('models');
    const counts = { loaded: models.length - failed.length, total: models.length };
    return failed.length ? check.down({ ...counts, failed }) : check.up(counts);
  }

  /** Terminus answers a failed check by throwing 503 with its result; both outcomes become a ReadinessDto. */
  private async run(checks: HealthIndicatorFunction[], reply: FastifyReply): Promise<ReadinessDto> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    const ok = result.status === 'ok';
    reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? CheckStatus.up : CheckStatus.down, checks: result.details as ReadinessDto['checks'] };
  }
}
