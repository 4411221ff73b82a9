import { ApiProperty } from '@nestjs/swagger';

/** One row of the audit log, as stored (append-only). */
export class AuditEventResponseDto {
  @ApiProperty({ format: 'uuid', example: '6f1c2b7e-3f43-4d0c-9a55-0f2a4b1f7c11' })
  id: string;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    example: '0b7e8f3a-9c1d-4e2f-8a6b-5d4c3b2a1f00',
    description: 'null for events outside any tenant (signing keys)',
  })
  tenantId: string | null;

  @ApiProperty({
    example: 'api_key.created',
    description:
      'Dotted event name: api_key.created|deleted, client.created|deleted, registered_key.created|updated|deleted|displaced|disabled, ' +
      'signing_key.*, refresh_token.reuse_detected, refresh_family.revoked, access_token.revoked, subject.revoked',
  })
  type: string;

  @ApiProperty({
    example: 'api-key:9d3c1a52-0e4b-4f7a-b1c2-3d4e5f6a7b8c',
    description: 'Who did it: `admin`, `api-key:<id>`, `client:<clientId>`, `oauth`, `anonymous`, `system` — never a credential',
  })
  actor: string;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '4b1d2c3e-5f60-4a7b-8c9d-0e1f2a3b4c5d',
    description: 'What the event is about: a key id, kid, client id or token subject',
  })
  subject: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { label: 'orders backend' },
    description: 'Ids and reasons; never a token, key or secret',
  })
  details: Record<string, unknown>;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'req-1a2b3c',
    description: 'The request id (X-Request-Id) of the call that caused it, when there was one',
  })
  requestId: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:04:05.123Z' })
  createdAt: string;
}
