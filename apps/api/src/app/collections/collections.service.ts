import { Injectable } from '@nestjs/common';
import { type Collection, CollectionError, CollectionsService } from '@lumen/collections';
import { type Principal, canSee, invalidField } from '@lumen/http';
import {
  type AddImagesFormDto,
  AddImagesResponseDto,
  CollectionDto,
  type CollectionListDto,
  type CreateCollectionDto,
  type SearchFormDto,
  type SearchRequestDto,
  SearchResponseDto,
} from './collections.dto.js';

/** The HTTP side of image collections: who may see what, and DTOs; the domain is @lumen/collections. */
@Injectable()
export class CollectionsApiService {
  constructor(private readonly collections: CollectionsService) {}

  /** A collection the caller may see, else 404 (another key's collection does not exist for it). */
  private async visible(principal: Principal, id: string): Promise<Collection> {
    const collection = await this.collections.find(id);
    if (!collection || !canSee(principal, collection.owner)) throw new CollectionError('collection.not-found', `No collection ${id}`);
    return collection;
  }

  async create(principal: Principal, body: CreateCollectionDto): Promise<CollectionDto> {
    const collection = await this.collections.create(principal.name, body.name, body.bits);
    return CollectionDto.from(collection, 0);
  }

  async list(principal: Principal): Promise<CollectionListDto> {
    const rows = await this.collections.list(principal.admin ? undefined : principal.name);
    return { items: rows.map(({ collection, count }) => CollectionDto.from(collection, count)) };
  }

  async get(principal: Principal, id: string): Promise<CollectionDto> {
    const collection = await this.visible(principal, id);
    return CollectionDto.from(collection, await this.collections.count(collection));
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.collections.delete(await this.visible(principal, id));
  }

  async deleteImage(principal: Principal, id: string, imageId: string): Promise<void> {
    await this.collections.deleteImage(await this.visible(principal, id), imageId);
  }

  async addImages(principal: Principal, id: string, form: AddImagesFormDto): Promise<AddImagesResponseDto> {
    const collection = await this.visible(principal, id);
    const results = await this.collections.addImages(collection, form.images, form.fileExternalIds(), form.fileMetadata());
    return AddImagesResponseDto.from(results);
  }

  /** Multipart search by an image (`form`), else JSON search by exactly one of imageId or code. */
  async search(principal: Principal, id: string, body: SearchRequestDto, form: SearchFormDto | undefined): Promise<SearchResponseDto> {
    const started = performance.now();
    const collection = await this.visible(principal, id);
    if (form) {
      const results = await this.collections.searchByImage(collection, form.image, form);
      return SearchResponseDto.from(results, started);
    }
    if ((body.imageId === undefined) === (body.code === undefined)) throw invalidField('imageId', 'Send exactly one of imageId or code (or a multipart form with an image)');
    const results = await (body.code !== undefined ? this.collections.searchByCode(collection, body.code, body) : this.collections.searchByImageId(collection, body.imageId!, body));
    return SearchResponseDto.from(results, started);
  }
}
