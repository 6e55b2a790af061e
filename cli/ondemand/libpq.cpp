// libpq functions pgsift calls, loaded on first use: see on_demand.h.
#include <libpq-fe.h>

#include "cli/ondemand/on_demand.h"

#define PGSIFT_PQ(ret, name, params, args) \
  PGSIFT_ON_DEMAND("libpq.so.5", "libpq5", ret, name, params, args)

PGSIFT_PQ(PGconn*, PQconnectdb, (const char* conninfo), (conninfo))
PGSIFT_PQ(PGconn*, PQconnectdbParams,
          (const char* const* keywords, const char* const* values, int expand_dbname),
          (keywords, values, expand_dbname))
PGSIFT_PQ(PGPing, PQpingParams,
          (const char* const* keywords, const char* const* values, int expand_dbname),
          (keywords, values, expand_dbname))
PGSIFT_PQ(void, PQfinish, (PGconn* conn), (conn))
PGSIFT_PQ(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg), (conninfo, errmsg))
PGSIFT_PQ(void, PQconninfoFree, (PQconninfoOption* options), (options))
PGSIFT_PQ(PGcancel*, PQgetCancel, (PGconn* conn), (conn))
PGSIFT_PQ(void, PQfreeCancel, (PGcancel* cancel), (cancel))
PGSIFT_PQ(int, PQcancel, (PGcancel* cancel, char* errbuf, int errbufsize), (cancel, errbuf, errbufsize))
PGSIFT_PQ(char*, PQdb, (const PGconn* conn), (conn))
PGSIFT_PQ(char*, PQuser, (const PGconn* conn), (conn))
PGSIFT_PQ(char*, PQpass, (const PGconn* conn), (conn))
PGSIFT_PQ(char*, PQhost, (const PGconn* conn), (conn))
PGSIFT_PQ(char*, PQport, (const PGconn* conn), (conn))
PGSIFT_PQ(ConnStatusType, PQstatus, (const PGconn* conn), (conn))
PGSIFT_PQ(PGTransactionStatusType, PQtransactionStatus, (const PGconn* conn), (conn))
PGSIFT_PQ(const char*, PQparameterStatus, (const PGconn* conn, const char* name), (conn, name))
PGSIFT_PQ(int, PQserverVersion, (const PGconn* conn), (conn))
PGSIFT_PQ(char*, PQerrorMessage, (const PGconn* conn), (conn))
PGSIFT_PQ(int, PQsocket, (const PGconn* conn), (conn))
PGSIFT_PQ(int, PQbackendPID, (const PGconn* conn), (conn))
PGSIFT_PQ(PQnoticeReceiver, PQsetNoticeReceiver, (PGconn* conn, PQnoticeReceiver proc, void* arg),
          (conn, proc, arg))
PGSIFT_PQ(PGresult*, PQexec, (PGconn* conn, const char* query), (conn, query))
PGSIFT_PQ(PGresult*, PQexecParams,
          (PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
           const char* const* paramValues, const int* paramLengths, const int* paramFormats,
           int resultFormat),
          (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
PGSIFT_PQ(PGresult*, PQprepare,
          (PGconn* conn, const char* stmtName, const char* query, int nParams, const Oid* paramTypes),
          (conn, stmtName, query, nParams, paramTypes))
PGSIFT_PQ(PGresult*, PQexecPrepared,
          (PGconn* conn, const char* stmtName, int nParams, const char* const* paramValues,
           const int* paramLengths, const int* paramFormats, int resultFormat),
          (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
PGSIFT_PQ(int, PQsendQuery, (PGconn* conn, const char* query), (conn, query))
PGSIFT_PQ(PGresult*, PQgetResult, (PGconn* conn), (conn))
PGSIFT_PQ(int, PQisBusy, (PGconn* conn), (conn))
PGSIFT_PQ(int, PQconsumeInput, (PGconn* conn), (conn))
PGSIFT_PQ(ExecStatusType, PQresultStatus, (const PGresult* res), (res))
PGSIFT_PQ(char*, PQresStatus, (ExecStatusType status), (status))
PGSIFT_PQ(char*, PQresultErrorMessage, (const PGresult* res), (res))
PGSIFT_PQ(char*, PQresultErrorField, (const PGresult* res, int fieldcode), (res, fieldcode))
PGSIFT_PQ(int, PQntuples, (const PGresult* res), (res))
PGSIFT_PQ(int, PQnfields, (const PGresult* res), (res))
PGSIFT_PQ(char*, PQfname, (const PGresult* res, int field_num), (res, field_num))
PGSIFT_PQ(int, PQfnumber, (const PGresult* res, const char* field_name), (res, field_name))
PGSIFT_PQ(Oid, PQftype, (const PGresult* res, int field_num), (res, field_num))
PGSIFT_PQ(char*, PQcmdStatus, (PGresult* res), (res))
PGSIFT_PQ(char*, PQcmdTuples, (PGresult* res), (res))
PGSIFT_PQ(char*, PQgetvalue, (const PGresult* res, int tup_num, int field_num), (res, tup_num, field_num))
PGSIFT_PQ(int, PQgetlength, (const PGresult* res, int tup_num, int field_num), (res, tup_num, field_num))
PGSIFT_PQ(int, PQgetisnull, (const PGresult* res, int tup_num, int field_num), (res, tup_num, field_num))
PGSIFT_PQ(void, PQclear, (PGresult* res), (res))
PGSIFT_PQ(void, PQfreemem, (void* ptr), (ptr))
PGSIFT_PQ(char*, PQescapeLiteral, (PGconn* conn, const char* str, size_t len), (conn, str, len))
PGSIFT_PQ(char*, PQescapeIdentifier, (PGconn* conn, const char* str, size_t len), (conn, str, len))

#undef PGSIFT_PQ
