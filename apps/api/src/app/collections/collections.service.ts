import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { PrismaService } from '@lumen/database';
import { type HammingIndex, type HashingModel, ImageHasher, ImageRejectedError, type MetadataFilter, codeToHex, hexToCode } from '@lumen/hashing';
import { type Principal, ProblemException, type UploadedFile, canSee, problemType, receiveMultipart } from '@lumen/http';
import { IMAGES_PER_REQUEST_MAX, imageBytesLimit, imageProblem, parseJsonField, readUpload, servedModel, uploadDirectory, validateFields } from '../hash/image-uploads.js';
import { CollectionIndexes } from './collection-indexes.js';
import {
  type AddImagesResponseDto,
  type CollectionDto,
  type CollectionListDto,
  type CreateCollectionDto,
  ImageUploadOutcome,
  type ImageUploadResultDto,
  SearchOptionsDto,
  type SearchRequestDto,
  type SearchResponseDto,
} from './collections.dto.js';

type CollectionRow = { id: string; name: string; bits: number; modelName: string; modelVersion: string; owner: string; createdAt: Date };

const EXTERNAL_ID_MAX = 256;
const METADATA_MAX_BYTES = 16 * 1024;
/** Images decoded at the same time within one request (sharp uses its own thread pool). */
const DECODE_CONCURRENCY = 8;

function badField(field: string, message: string): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-request', message, { errors: [{ field, message }] });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

@Injectable()
export class CollectionsService {
  private readonly rows = new Map<string, CollectionRow>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly hasher: ImageHasher,
    private readonly indexes: CollectionIndexes,
    @Inject(CONFIG) private readonly config: LumenConfig,
  ) {}

  private toDto(row: CollectionRow, count: number): CollectionDto {
    const self = `/collections/${row.id}`;
    return {
      id: row.id,
      name: row.name,
      bits: row.bits,
      model: { name: row.modelName, version: row.modelVersion },
      count,
      owner: row.owner,
      createdAt: row.createdAt.toISOString(),
      links: { self, images: `${self}/images`, search: `${self}/search` },
    };
  }

  /**
   * A collection the caller may see, else 404 (another key's collection does not exist for it).
   * Rows never change after creation, so they are cached until deleted: a search by code then
   * needs no database round trip.
   */
  async visible(principal: Principal, id: string): Promise<CollectionRow> {
    let row = this.rows.get(id) ?? null;
    if (!row) {
      row = await this.prisma.collection.findUnique({ where: { id } });
      if (row) this.rows.set(id, row);
    }
    if (!row || !canSee(principal, row.owner)) throw new ProblemException(HttpStatus.NOT_FOUND, 'collection-not-found', `No collection ${id}`);
    return row;
  }

  /** The model that made the collection's codes; images can only be hashed while it is served. */
  private collectionModel(collection: CollectionRow): HashingModel {
    const model = this.hasher.model(collection.modelName);
    if (!model) {
      throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'model-unavailable', `Model ${collection.modelName} of this collection is not loaded; search by code or imageId still works`);
    }
    if (model.version !== collection.modelVersion) {
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'model-version-changed',
        `This collection holds codes of ${collection.modelName} v${collection.modelVersion}, but v${model.version} is served; its codes would not be comparable`,
      );
    }
    return model;
  }

  async create(principal: Principal, body: CreateCollectionDto): Promise<CollectionDto> {
    const model = servedModel(this.hasher, body.bits);
    const row = await this.prisma.collection.create({
      data: { id: randomUUID(), name: body.name, bits: model.bits, modelName: model.name, modelVersion: model.version, owner: principal.name },
    });
    return this.toDto(row, 0);
  }

  async list(principal: Principal): Promise<CollectionListDto> {
    const rows = await this.prisma.collection.findMany({
      where: principal.admin ? {} : { owner: principal.name },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      include: { _count: { select: { images: true } } },
    });
    return { items: rows.map((row) => this.toDto(row, row._count.images)) };
  }

  async get(principal: Principal, id: string): Promise<CollectionDto> {
    const row = await this.visible(principal, id);
    return this.toDto(row, (await this.indexes.get(row)).size);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const row = await this.visible(principal, id);
    await this.indexes.withWriteLock(id, async () => {
      await this.prisma.collection.deleteMany({ where: { id: row.id } });
      this.rows.delete(row.id);
      this.indexes.drop(row.id);
    });
  }

  async deleteImage(principal: Principal, id: string, imageId: string): Promise<void> {
    const row = await this.visible(principal, id);
    const index = await this.indexes.get(row);
    await this.indexes.withWriteLock(id, async () => {
      const { count } = await this.prisma.image.deleteMany({ where: { id: imageId, collectionId: row.id } });
      index.remove(imageId);
      if (!count) throw new ProblemException(HttpStatus.NOT_FOUND, 'image-not-found', `No image ${imageId} in collection ${id}`);
    });
  }

  /** Reads the optional per-file `externalIds` and `metadata` JSON arrays; 400 naming the field and position. */
  private perFileFields(fields: Record<string, string>, fileCount: number): { externalIds: (string | null)[]; metadata: Record<string, unknown>[] } {
    const unknown = Object.keys(fields).filter((f) => f !== 'externalIds' && f !== 'metadata');
    if (unknown.length) throw badField(unknown[0], `Unexpected field "${unknown[0]}"; the form takes images, externalIds and metadata`);
    const externalIds = parseJsonField(fields, 'externalIds') ?? new Array(fileCount).fill(null);
    const metadata = parseJsonField(fields, 'metadata') ?? new Array(fileCount).fill(null);
    for (const [name, value] of [['externalIds', externalIds], ['metadata', metadata]] as const) {
      if (!Array.isArray(value)) throw badField(name, `${name} must be a JSON array with one entry per file`);
      if (value.length !== fileCount) throw badField(name, `${name} has ${value.length} entries for ${fileCount} file(s)`);
    }
    (externalIds as unknown[]).forEach((value, i) => {
      if (value !== null && (typeof value !== 'string' || value.length === 0 || value.length > EXTERNAL_ID_MAX)) {
        throw badField(`externalIds[${i}]`, `externalIds[${i}] must be null or a string of 1..${EXTERNAL_ID_MAX} characters`);
      }
    });
    const objects = (metadata as unknown[]).map((value, i) => {
      if (value === null) return {};
      if (typeof value !== 'object' || Array.isArray(value)) throw badField(`metadata[${i}]`, `metadata[${i}] must be null or a JSON object`);
      if (JSON.stringify(value).length > METADATA_MAX_BYTES) throw badField(`metadata[${i}]`, `metadata[${i}] is larger than ${METADATA_MAX_BYTES} bytes of JSON`);
      return value as Record<string, unknown>;
    });
    return { externalIds: externalIds as (string | null)[], metadata: objects };
  }

  async addImages(principal: Principal, id: string, request: FastifyRequest): Promise<AddImagesResponseDto> {
    const collection = await this.visible(principal, id);
    const model = this.collectionModel(collection);
    const upload = await receiveMultipart(request, {
      directory: uploadDirectory(this.config),
      maxFileBytes: imageBytesLimit(this.config),
      maxFiles: IMAGES_PER_REQUEST_MAX,
      fileFields: ['images'],
    });
    try {
      const files = upload.files;
      if (!files.length) throw new ProblemException(HttpStatus.BAD_REQUEST, 'missing-image', 'Send at least one image as the multipart file field "images"');
      const { externalIds, metadata } = this.perFileFields(upload.fields, files.length);
      const index = await this.indexes.get(collection);

      // Decode every file (a file that fails becomes its own error entry), then encode them all
      // at once so the micro-batcher sends full batches to ONNX Runtime.
      const results: ImageUploadResultDto[] = files.map((file, i) => ({ index: i, fileName: file.clientName, outcome: ImageUploadOutcome.failed }));
      const tensors = await mapLimit(files, DECODE_CONCURRENCY, async (file: UploadedFile, i) => {
        try {
          return await this.hasher.preprocess(model, await readUpload(file));
        } catch (error) {
          if (!(error instanceof ImageRejectedError)) throw error;
          results[i].error = { status: error.status, type: problemType(error.problem), detail: error.message };
          return null;
        }
      });
      const codes = await Promise.all(tensors.map((tensor) => (tensor ? this.hasher.encode(model, tensor) : null)));

      // First file of each SHA-256 is inserted; later copies in the same request are duplicates of it.
      const firstBySha = new Map<string, number>();
      const rows: { id: string; collectionId: string; code: Uint8Array<ArrayBuffer>; externalId: string | null; metadata: object; sha256: string }[] = [];
      files.forEach((file, i) => {
        const code = codes[i];
        if (!code || firstBySha.has(file.sha256)) return;
        firstBySha.set(file.sha256, i);
        rows.push({ id: randomUUID(), collectionId: collection.id, code: new Uint8Array(code), externalId: externalIds[i], metadata: metadata[i], sha256: file.sha256 });
      });

      const stored = await this.indexes.withWriteLock(collection.id, async () => {
        let created: { id: string; sha256: string; seq: bigint; code: Uint8Array; externalId: string | null; metadata: unknown }[];
        try {
          created = await this.prisma.image.createManyAndReturn({
            data: rows.map((r) => ({ ...r, metadata: r.metadata as object })),
            skipDuplicates: true,
            select: { id: true, sha256: true, seq: true, code: true, externalId: true, metadata: true },
          });
        } catch (error) {
          if ((error as { code?: string }).code === 'P2003') throw new ProblemException(HttpStatus.NOT_FOUND, 'collection-not-found', `No collection ${id}`);
          throw error;
        }
        // Insertion order is tie order: add to the index in sequence order.
        for (const row of [...created].sort((a, b) => (a.seq < b.seq ? -1 : 1))) {
          index.add({ id: row.id, externalId: row.externalId, metadata: row.metadata as Record<string, unknown> }, row.code);
        }
        const createdShas = new Set(created.map((r) => r.sha256));
        const existingShas = [...firstBySha.keys()].filter((sha) => !createdShas.has(sha));
        const existing = existingShas.length
          ? await this.prisma.image.findMany({ where: { collectionId: collection.id, sha256: { in: existingShas } }, select: { id: true, sha256: true, code: true, externalId: true } })
          : [];
        return { created: new Map(created.map((r) => [r.sha256, r])), existing: new Map(existing.map((r) => [r.sha256, r])) };
      });

      files.forEach((file, i) => {
        if (!codes[i]) return;
        const fresh = stored.created.get(file.sha256);
        const isNew = fresh !== undefined && firstBySha.get(file.sha256) === i;
        const row = fresh ?? stored.existing.get(file.sha256);
        if (!row) {
          // Deleted between our insert attempt and the look-up: report it rather than guess.
          results[i].error = { status: HttpStatus.CONFLICT, type: problemType('concurrent-delete'), detail: 'an identical image was deleted while this one was being added; retry' };
          return;
        }
        Object.assign(results[i], {
          outcome: isNew ? ImageUploadOutcome.added : ImageUploadOutcome.duplicate,
          id: row.id,
          externalId: row.externalId,
          code: codeToHex(row.code),
          duplicate: !isNew,
        });
      });
      return {
        added: results.filter((r) => r.outcome === ImageUploadOutcome.added).length,
        duplicates: results.filter((r) => r.outcome === ImageUploadOutcome.duplicate).length,
        failed: results.filter((r) => r.outcome === ImageUploadOutcome.failed).length,
        results,
      };
    } finally {
      await upload.cleanup();
    }
  }

  /** JSON search (by imageId or code) or multipart search (by image). */
  async search(principal: Principal, id: string, request: FastifyRequest, body: SearchRequestDto): Promise<SearchResponseDto> {
    const started = performance.now();
    const collection = await this.visible(principal, id);
    let options: SearchOptionsDto;
    let code: Uint8Array;
    const index = await this.indexes.get(collection);
    if (request.isMultipart()) {
      const upload = await receiveMultipart(request, { directory: uploadDirectory(this.config), maxFileBytes: imageBytesLimit(this.config), maxFiles: 1, fileFields: ['image'] });
      try {
        const fields: Record<string, unknown> = { ...upload.fields };
        if (fields.filter !== undefined) fields.filter = parseJsonField(upload.fields, 'filter');
        options = await validateFields(SearchOptionsDto, fields);
        const file = upload.files[0];
        if (!file) throw new ProblemException(HttpStatus.BAD_REQUEST, 'missing-image', 'Send the query image as the multipart file field "image" (or JSON with imageId or code)');
        this.checkOptions(options, collection.bits);
        const model = this.collectionModel(collection);
        try {
          code = await this.hasher.hash(model, await readUpload(file));
        } catch (error) {
          if (error instanceof ImageRejectedError) throw imageProblem(error, file);
          throw error;
        }
      } finally {
        await upload.cleanup();
      }
    } else {
      options = body;
      if ((body.imageId === undefined) === (body.code === undefined)) {
        throw badField('imageId', 'Send exactly one of imageId or code (or a multipart form with an image)');
      }
      this.checkOptions(options, collection.bits);
      if (body.code !== undefined) {
        const parsed = hexToCode(body.code, collection.bits);
        if (!parsed) throw badField('code', `code must be ${Math.ceil(collection.bits / 8) * 2} hex digits for this ${collection.bits}-bit collection (padding bits 0); got ${body.code.length}`);
        code = parsed;
      } else {
        const stored = index.get(body.imageId!);
        if (!stored) throw new ProblemException(HttpStatus.NOT_FOUND, 'image-not-found', `No image ${body.imageId} in collection ${id}`);
        code = stored.code;
      }
    }
    return this.runSearch(index, code, options, started);
  }

  private checkOptions(options: SearchOptionsDto, bits: number): void {
    if (options.maxDistance !== undefined && options.maxDistance > bits) throw badField('maxDistance', `maxDistance must be at most ${bits} (the collection's bits)`);
    for (const [key, value] of Object.entries(options.filter ?? {})) {
      if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw badField(`filter.${key}`, `filter.${key} must be a string, number, boolean or null (equality on one metadata value)`);
      }
    }
  }

  private runSearch(index: HammingIndex, code: Uint8Array, options: SearchOptionsDto, started: number): SearchResponseDto {
    const hits = index.search(code, { k: options.k, maxDistance: options.maxDistance, filter: options.filter as MetadataFilter | undefined });
    return {
      results: hits.map((h) => ({ imageId: h.image.id, externalId: h.image.externalId, distance: h.distance, metadata: h.image.metadata })),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    };
  }
}
