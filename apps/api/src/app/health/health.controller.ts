import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiProperty({ example: { database: { status: 'up' }, models: { status: 'up', loaded: 6, total: 6 } } })
  checks: Record<string, { status: CheckStatus; [detail: string]: unknown }>;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly registry: ModelRegistry,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: 'The process is up' })
  @ApiOkResponse({ schema: { example: { status: 'up' } } })
  live() {
    return { status: 'up' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'ready', summary: '200 when the database answers and every model is loaded; else 503 naming what failed' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ReadinessDto })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessDto> {
    const database = await this.prisma.isHealthy();
    const models = this.registry.list();
    const failed = models.filter((m) => !m.ready).map((m) => ({ name: m.name, error: m.error }));
    const checks = {
      database: { status: database ? CheckStatus.up : CheckStatus.down },
      models: { status: failed.length ? CheckStatus.down : CheckStatus.up, loaded: models.length - failed.length, total: models.length, ...(failed.length ? { failed } : {}) },
    };
    const ok = database && !failed.length;
    reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? CheckStatus.up : CheckStatus.down, checks };
  }
}
