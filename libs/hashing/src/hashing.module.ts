import { Module } from '@nestjs/common';
import { ImageHasher } from './image-hasher.service.js';

/** Image → binary code with the registry's hashing models (needs InferenceModule, which is global). */
@Module({ providers: [ImageHasher], exports: [ImageHasher] })
export class HashingModule {}
