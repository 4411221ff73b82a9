import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Principal, TokenPrincipal } from '@tessera/nest-guard';
import { TesseraAuthGuard } from '@tessera/nest-guard/passport';

/** Routes of an app already on @nestjs/passport: the `tessera` strategy behind passport's own guards. */
@Controller('passport')
export class PassportController {
  /** The design's 401 JSON and challenge on refusal. */
  @UseGuards(TesseraAuthGuard)
  @Get('guarded')
  guarded(@Principal() principal: TokenPrincipal): { sub: string | undefined; scope: string | undefined } {
    return { sub: principal.sub, scope: principal.scope };
  }

  /** Plain `AuthGuard('tessera')`: @nestjs/passport's generic 401 on refusal, `req.user` the principal. */
  @UseGuards(AuthGuard('tessera'))
  @Get('plain')
  plain(@Principal('sub') sub: string): { sub: string } {
    return { sub };
  }
}
