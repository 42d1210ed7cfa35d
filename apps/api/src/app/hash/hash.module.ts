import { Module } from '@nestjs/common';
import { HashingModule } from '@lumen/hashing';
import { HashController } from './hash.controller.js';
import { HashService } from './hash.service.js';

/** Deep-hashing of one image: POST /hash (collections have their own module). */
@Module({ imports: [HashingModule], controllers: [HashController], providers: [HashService] })
export class HashingApiModule {}
